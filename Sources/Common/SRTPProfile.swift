/// An SRTP protection profile that DTLS negotiates (RFC 5764 §4.1.2, `use_srtp`) and SRTP
/// applies, with the key and salt sizes that decide how the DTLS exporter's output is split
/// (RFC 5764 §4.2). Shared by the DTLS and SRTP modules, which do not depend on each other.
public enum SRTPProfile: UInt16, Sendable, CaseIterable {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2): AES-128 counter mode, 80-bit
    /// HMAC-SHA1 tag.
    case aes128CmHmacSha1_80 = 0x0001
    /// SRTP_AEAD_AES_128_GCM (RFC 7714 §14.2): AES-128 GCM, 16-byte tag.
    case aeadAes128Gcm = 0x0007

    /// The master key length in bytes.
    public var keyLength: Int { 16 }

    /// The master salt length in bytes (RFC 3711 §8.2: 112 bits; RFC 7714 §14.2: 96 bits).
    public var saltLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: return 14
        case .aeadAes128Gcm: return 12
        }
    }

    /// The exporter output both ends derive (RFC 5764 §4.2): client key, server key, client
    /// salt, server salt.
    public var keyingMaterialLength: Int { 2 * (keyLength + saltLength) }

    /// Bytes SRTP adds to an RTP packet: the authentication tag.
    public var rtpOverhead: Int {
        switch self {
        case .aes128CmHmacSha1_80: return 10
        case .aeadAes128Gcm: return 16
        }
    }

    /// Bytes SRTCP adds to an RTCP packet: the E flag and index word, and the tag.
    public var rtcpOverhead: Int { 4 + rtpOverhead }

    /// The profile an RFC 5764 id names, if this agent supports it.
    public init?(id: UInt16) { self.init(rawValue: id) }

    /// The name RFC 5764 and RFC 7714 give it, for logs and the status report.
    public var name: StaticString {
        switch self {
        case .aes128CmHmacSha1_80: return "SRTP_AES128_CM_HMAC_SHA1_80"
        case .aeadAes128Gcm: return "SRTP_AEAD_AES_128_GCM"
        }
    }
}
