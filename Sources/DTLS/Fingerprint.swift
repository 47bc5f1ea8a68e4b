import Common
import Crypto

/// A certificate fingerprint as SDP carries it (RFC 8122 §5, `a=fingerprint:sha-256
/// AB:CD:...`): the SHA-256 of the DER certificate. It is what binds the DTLS handshake to
/// the signaling (RFC 5763 §5): the peer's certificate must hash to the value its
/// description announced. Only sha-256 is used (RFC 8827 §6.5: every WebRTC endpoint
/// offers it).
public struct Fingerprint: Equatable, Sendable {
    public private(set) var bytes: InlineArray<32, UInt8>

    public init(bytes: InlineArray<32, UInt8>) { self.bytes = bytes }

    /// The fingerprint of a DER-encoded certificate.
    public init(certificate der: UnsafeRawBufferPointer) {
        var out = InlineArray<32, UInt8>(repeating: 0)
        sha256(der, into: &out)
        bytes = out
    }

    /// Parses the value of an `a=fingerprint` attribute: the hash function token and 32
    /// colon-separated hex pairs (RFC 8122 §5; upper or lower case).
    public init(sdpValue text: Substring) throws(FingerprintError) {
        let utf8 = Array(text.utf8)
        guard let space = utf8.firstIndex(of: 0x20) else { throw .malformed }
        let algorithm = utf8[..<space]
        guard algorithm.count == 7, algorithm.elementsEqual("sha-256".utf8, by: { ($0 | 0x20) == $1 }) else {
            throw .unsupportedHash
        }
        var hex = utf8[(space + 1)...]
        while hex.last == 0x20 { hex = hex.dropLast() }
        // 32 pairs and 31 colons.
        guard hex.count == 95 else { throw .malformed }
        var out = InlineArray<32, UInt8>(repeating: 0)
        var i = hex.startIndex
        for n in 0..<32 {
            guard let high = Self.nibble(hex[i]), let low = Self.nibble(hex[i + 1]) else { throw .malformed }
            out[n] = high << 4 | low
            if n < 31 {
                guard hex[i + 2] == 0x3A else { throw .malformed }
            }
            i += 3
        }
        bytes = out
    }

    /// The attribute value: `sha-256` and upper-case hex pairs (RFC 8122 §5).
    public var sdpValue: String {
        let digits: StaticString = "0123456789ABCDEF"
        var text = "sha-256 "
        digits.withUTF8Buffer { d in
            for n in 0..<32 {
                if n > 0 { text.append(":") }
                text.unicodeScalars.append(Unicode.Scalar(d[Int(bytes[n] >> 4)]))
                text.unicodeScalars.append(Unicode.Scalar(d[Int(bytes[n] & 0x0F)]))
            }
        }
        return text
    }

    public static func == (a: Fingerprint, b: Fingerprint) -> Bool {
        // Constant time: the comparison decides whether a handshake is accepted.
        var diff: UInt8 = 0
        for n in 0..<32 { diff |= a.bytes[n] ^ b.bytes[n] }
        return diff == 0
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

/// Why an `a=fingerprint` value was not accepted.
public enum FingerprintError: Error, Equatable, Sendable {
    /// Not `hash-func SP hex:hex:...`, or a length that does not fit SHA-256.
    case malformed
    /// A hash function other than sha-256.
    case unsupportedHash
}
