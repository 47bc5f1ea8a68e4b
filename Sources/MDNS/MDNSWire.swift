import Common

/// DNS message constants and the name reader shared by the query builder and the response
/// parser (RFC 1035 §4, RFC 6762 §18).
public enum MDNSWire {
    /// RFC 6762 §3: the IPv4 and IPv6 link-local groups and the port.
    public static let groupV4 = IPAddress.v4(0xE000_00FB)  // 224.0.0.251
    public static let groupV6 = IPAddress.v6(0xFF02_0000_0000_0000, 0xFB)  // ff02::fb
    public static let port: UInt16 = 5353

    /// RFC 1035 §4.1.1.
    public static let headerLength = 12
    /// RFC 1035 §2.3.4.
    public static let maxNameLength = 255
    /// Compression pointers followed in one name. Each must point strictly backwards, which
    /// alone ends every chase; this bounds its cost too.
    public static let maxPointers = 32
    /// Questions plus records read from one message: a datagram of 9000 bytes holds fewer
    /// than 820 records of 11 bytes, so this bounds the work below what a datagram allows.
    public static let maxRecords = 256

    static let typeA: UInt16 = 1
    static let typeAAAA: UInt16 = 28
    static let classIN: UInt16 = 1
    /// RFC 6762 §18.12 (questions: unicast response wanted) and §10.2 (records: cache flush).
    static let topBit: UInt16 = 0x8000

    /// Reads the name at `offset` into `out` (lowercased wire form) and returns the offset
    /// just after it in the message (after the first pointer if compressed).
    static func readName(_ m: UnsafeRawBufferPointer, at offset: Int, into out: inout [UInt8]) throws(MDNSError) -> Int {
        out.removeAll(keepingCapacity: true)
        var i = offset
        var end: Int? = nil
        var pointers = 0
        // The lowest offset a pointer may still target: strictly before the last pointer.
        var limit = offset
        while true {
            guard i < m.count else { throw .truncated }
            let len = m[i]
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    out.append(0)
                    guard out.count <= maxNameLength else { throw .nameTooLong }
                    return end ?? i + 1
                }
                let n = Int(len)
                guard i + 1 + n <= m.count else { throw .truncated }
                guard out.count + 1 + n + 1 <= maxNameLength else { throw .nameTooLong }
                out.append(len)
                for k in 0..<n {
                    let b = m[i + 1 + k]
                    out.append((b >= 0x41 && b <= 0x5A) ? b | 0x20 : b)
                }
                i += 1 + n
            case 0xC0:
                guard i + 1 < m.count else { throw .truncated }
                let target = Int(m.loadBigEndianUInt16(at: i) & 0x3FFF)
                pointers += 1
                guard pointers <= maxPointers, target < limit else { throw .badPointer }
                if end == nil { end = i + 2 }
                limit = target
                i = target
            default:
                throw .badLabel
            }
        }
    }
}
