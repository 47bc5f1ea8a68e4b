/// Case folding for protocol tokens, which are ASCII and compared case-insensitively: HTTP
/// field names (RFC 9110 §5.1), SDP tokens such as encoding names and `typ` (RFC 8866 §5,
/// RFC 4855 §3), origins' scheme and host (RFC 6454 §6.1), DNS names (RFC 4343). Only A-Z and
/// a-z change; every other byte, non-ASCII included, is kept as it is, so the text keeps its
/// length. Unicode case mapping (`lowercased()`) would change non-ASCII letters a peer sent and
/// costs its mapping tables, about 16 KB, in the device binary.
extension UInt8 {
    @inlinable public var asciiLowercased: UInt8 { self >= 0x41 && self <= 0x5A ? self | 0x20 : self }

    @inlinable public var asciiUppercased: UInt8 { self >= 0x61 && self <= 0x7A ? self & 0xDF : self }
}

extension StringProtocol {
    public func asciiLowercased() -> String { asciiFolded(upper: false) }

    public func asciiUppercased() -> String { asciiFolded(upper: true) }

    private func asciiFolded(upper: Bool) -> String {
        let view = utf8
        return String(unsafeUninitializedCapacity: view.count) { buffer in
            var i = 0
            for b in view {
                buffer[i] = upper ? b.asciiUppercased : b.asciiLowercased
                i += 1
            }
            return i
        }
    }
}
