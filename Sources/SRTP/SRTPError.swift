/// Why SRTP refused a packet or a key (RFC 3711 §3.3, §3.4). A packet that fails is dropped
/// and counted; it never changes the session.
public enum SRTPError: Error, Equatable, Sendable {
    /// The authentication tag did not verify (RFC 3711 §3.3 step 5; RFC 7714 §9.3).
    case authenticationFailed
    /// The index was seen before or is behind the replay window (RFC 3711 §3.3.2).
    case replayed
    /// Too short to be RTP or RTCP, or a header that runs past the packet.
    case malformed
    /// No room after the packet for the tag (the caller's buffer is too small).
    case noRoom
    /// The keying material does not have the profile's length (RFC 5764 §4.2).
    case badKeyingMaterial
    /// Any other libsrtp status, by its number.
    case library(Int32)
}
