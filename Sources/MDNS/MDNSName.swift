import Common

/// A name under ".local" (RFC 6762 §3) in DNS wire form (RFC 1035 §3.1: length-prefixed
/// labels ending with a zero byte), lowercased, since names compare case-insensitively
/// (RFC 6762 §16).
public struct MDNSName: Hashable, Sendable, CustomStringConvertible {
    /// The wire form, at most `MDNSWire.maxNameLength` bytes.
    public let wire: [UInt8]

    /// Longest label (RFC 1035 §2.3.4).
    public static let maxLabelLength = 63

    /// `text` as dot-separated labels of letters, digits, hyphens and underscores, the last
    /// one "local"; a trailing dot is allowed.
    public init(_ text: String) throws(MDNSError) {
        var bytes = Array(text.utf8)
        if bytes.last == 0x2E { bytes.removeLast() }
        guard !bytes.isEmpty, bytes.count + 2 <= MDNSWire.maxNameLength else { throw .badName }
        var out: [UInt8] = [0]
        out.reserveCapacity(bytes.count + 2)
        var lengthAt = 0
        for b in bytes {
            if b == 0x2E {
                guard out.count - lengthAt - 1 >= 1 else { throw .badName }
                lengthAt = out.count
                out.append(0)
                continue
            }
            let lower = b.asciiLowercased
            let allowed = (lower >= 0x61 && lower <= 0x7A) || (lower >= 0x30 && lower <= 0x39) || lower == 0x2D || lower == 0x5F
            guard allowed, out.count - lengthAt - 1 < Self.maxLabelLength else { throw .badName }
            out.append(lower)
            out[lengthAt] += 1
        }
        guard out[lengthAt] >= 1, lengthAt >= 1 else { throw .badName }
        // RFC 6762 §3: only names under "local." are resolved by multicast.
        guard Array(out[lengthAt...]) == [5, 0x6C, 0x6F, 0x63, 0x61, 0x6C] else { throw .badName }
        out.append(0)
        wire = out
    }

    /// From an already lowercased, validated wire form (the parser's).
    init(lowercasedWire: [UInt8]) { wire = lowercasedWire }

    /// Dotted text, without the trailing dot.
    public var description: String {
        var s: [UInt8] = []
        var i = 0
        while i < wire.count, wire[i] != 0 {
            let n = Int(wire[i])
            if !s.isEmpty { s.append(0x2E) }
            s += wire[(i + 1)..<min(wire.count, i + 1 + n)]
            i += 1 + n
        }
        return String(decoding: s, as: UTF8.self)
    }
}
