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
    /// The replay window is outside what libsrtp supports (64 to 32767 packets; RFC 3711
    /// §3.3.2 asks for at least 64).
    case badReplayWindow
    /// The packet's SSRC would be one stream more than the session keeps per direction: each
    /// SSRC costs a libsrtp stream (keys and replay list) that lives as long as the session.
    case tooManyStreams
    /// The packet does not start on a 4-byte boundary, which libsrtp reads the header words at.
    case unalignedBuffer
    /// Any other libsrtp status, by its number.
    case library(Int32)
}
