/// Case folding for protocol tokens, which are ASCII and compared case-insensitively: HTTP
/// field names (RFC 9110 §5.1), SDP tokens such as encoding names and `typ` (RFC 8866 §5,
/// RFC 4855 §3), origins' scheme and host (RFC 6454 §6.1). Only A-Z and a-z change; every other
/// byte, non-ASCII included, is kept as it is, so the text keeps its length. Unicode case
/// mapping (`lowercased()`) would change non-ASCII letters a peer sent and costs its mapping
/// tables, about 16 KB, in the device binary.
extension StringProtocol {
    public func asciiLowercased() -> String { asciiMapped(from: 0x41, to: 0x5A, flip: 0x20) }

    public func asciiUppercased() -> String { asciiMapped(from: 0x61, to: 0x7A, flip: 0x20) }

    private func asciiMapped(from low: UInt8, to high: UInt8, flip: UInt8) -> String {
        let view = utf8
        return String(unsafeUninitializedCapacity: view.count) { buffer in
            var i = 0
            for b in view {
                buffer[i] = b >= low && b <= high ? b ^ flip : b
                i += 1
            }
            return i
        }
    }
}
