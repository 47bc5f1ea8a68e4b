import Common

/// The record types a resolution asks for.
public enum MDNSRecordType: UInt16, Sendable {
    case a = 1      // RFC 1035 §3.2.2
    case aaaa = 28  // RFC 3596 §2.1
}

/// A one-shot mDNS query (RFC 6762 §5.1): sent from an ephemeral port (never 5353), so
/// responders answer with a conventional unicast response to that port, repeating the id
/// and the question (§6.7); the QU bit asks for a unicast answer too (§5.4).
public enum MDNSQuery {
    /// The message: header with `id`, no flags (RFC 6762 §18.2-18.10: QR, opcode, AA, TC, RD,
    /// RA, Z, AD, CD and RCODE all zero in queries), one question per type, the name written
    /// once and pointed to by the following questions (RFC 1035 §4.1.4), QCLASS IN with the
    /// QU bit (RFC 6762 §18.12).
    public static func build(name: MDNSName, types: [MDNSRecordType], id: UInt16) -> [UInt8] {
        var m: [UInt8] = []
        m.reserveCapacity(MDNSWire.headerLength + name.wire.count + 4 + types.count * 6)
        append16(&m, id)
        append16(&m, 0)                      // flags
        append16(&m, UInt16(types.count))    // QDCOUNT
        append16(&m, 0)                      // ANCOUNT
        append16(&m, 0)                      // NSCOUNT
        append16(&m, 0)                      // ARCOUNT
        for (k, t) in types.enumerated() {
            if k == 0 {
                m += name.wire
            } else {
                append16(&m, 0xC000 | UInt16(MDNSWire.headerLength))
            }
            append16(&m, t.rawValue)
            append16(&m, MDNSWire.topBit | MDNSWire.classIN)
        }
        return m
    }

    static func append16(_ m: inout [UInt8], _ v: UInt16) {
        m.append(UInt8(v >> 8))
        m.append(UInt8(v & 0xFF))
    }
}
