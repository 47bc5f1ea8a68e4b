import Common
import Crypto

/// RFC 8489 §18.5: the PASSWORD-ALGORITHM registry.
public enum PasswordAlgorithm: UInt16, Sendable {
    case md5 = 0x0001
    case sha256 = 0x0002
}

/// A MESSAGE-INTEGRITY key, prepared once per credential (RFC 8489 §9): both HMACs keep their
/// padded-key hash states, so signing or checking a message hashes only the message.
public struct IntegrityKey: Sendable {
    public let sha1: HMACSHA1Key
    public let sha256: HMACSHA256Key

    /// A key from raw bytes (the password for short-term credentials, RFC 8489 §9.1.1).
    public init(key: UnsafeRawBufferPointer) {
        sha1 = HMACSHA1Key(key: key)
        sha256 = HMACSHA256Key(key: key)
    }

    /// Short-term credential (ICE): the key is the password itself. ICE passwords are ASCII
    /// (RFC 8839 §5.4), so OpaqueString preparation leaves them unchanged.
    public static func shortTerm(password: String) -> IntegrityKey {
        var p = password
        return p.withUTF8 { IntegrityKey(key: UnsafeRawBufferPointer($0)) }
    }

    /// Long-term credential (RFC 8489 §9.2.2): key = H(username ":" realm ":" password) with
    /// H = MD5 (16 bytes) or SHA-256 (32 bytes). Inputs are expected already prepared
    /// (OpaqueString / SASLprep), as the RFC 5769 and 8489 vectors give them.
    public static func longTerm(username: String, realm: String, password: String,
                                algorithm: PasswordAlgorithm = .md5) -> IntegrityKey {
        longTermKeyBytes(username: username, realm: realm, password: password, algorithm: algorithm)
            .withUnsafeBytes { IntegrityKey(key: $0) }
    }
}

/// The raw long-term key (RFC 8489 §9.2.2): 16 bytes of MD5 or 32 of SHA-256 over
/// username ":" realm ":" password.
public func longTermKeyBytes(username: String, realm: String, password: String,
                             algorithm: PasswordAlgorithm) -> [UInt8] {
    var text = username + ":" + realm + ":" + password
    return text.withUTF8 { utf8 -> [UInt8] in
        let input = UnsafeRawBufferPointer(utf8)
        switch algorithm {
        case .md5:
            var digest = InlineArray<16, UInt8>(repeating: 0)
            md5(input, into: &digest)
            return digest.span.withUnsafeBytes { Array($0) }
        case .sha256:
            var digest = InlineArray<32, UInt8>(repeating: 0)
            Crypto.sha256(input, into: &digest)
            return digest.span.withUnsafeBytes { Array($0) }
        }
    }
}

/// RFC 8489 §9.2.4 USERHASH = SHA-256(username ":" realm).
public func userhash(username: String, realm: String) -> InlineArray<32, UInt8> {
    var text = username + ":" + realm
    var digest = InlineArray<32, UInt8>(repeating: 0)
    text.withUTF8 { Crypto.sha256(UnsafeRawBufferPointer($0), into: &digest) }
    return digest
}
