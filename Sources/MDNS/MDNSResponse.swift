import Common

/// One A or AAAA record of a response.
public struct MDNSAddressRecord: Equatable, Sendable {
    public let name: MDNSName
    public let address: IPAddress
    /// RFC 6762 §10.1: 0 announces that the record is gone (a "goodbye").
    public let ttl: UInt32
}

/// The A and AAAA records of an mDNS response, parsed over borrowed bytes (RFC 1035 §4.1,
/// RFC 6762 §18). Every other record is skipped: mDNS answers may carry any records in any
/// section (RFC 6762 §6, §12), and only addresses matter here.
public struct MDNSResponse: Sendable {
    public let id: UInt16
    /// In message order, at most `maxAddressRecords`; further address records are dropped.
    public private(set) var records: [MDNSAddressRecord] = []

    public static let maxAddressRecords = 16

    public init(parsing m: UnsafeRawBufferPointer) throws(MDNSError) {
        guard m.count >= MDNSWire.headerLength else { throw .truncated }
        id = m.loadBigEndianUInt16(at: 0)
        let flags = m.loadBigEndianUInt16(at: 2)
        // RFC 6762 §18.2-18.3: QR must be 1 and the opcode 0 in a response.
        guard flags & 0x8000 != 0, (flags >> 11) & 0xF == 0 else { throw .notAResponse }
        // RFC 6762 §18.11: a nonzero RCODE is silently ignored.
        let rcode = UInt8(flags & 0xF)
        guard rcode == 0 else { throw .errorResponse(rcode) }
        let questions = Int(m.loadBigEndianUInt16(at: 4))
        let records = Int(m.loadBigEndianUInt16(at: 6)) + Int(m.loadBigEndianUInt16(at: 8)) + Int(m.loadBigEndianUInt16(at: 10))
        guard questions + records <= MDNSWire.maxRecords else { throw .tooManyRecords }
        var name: [UInt8] = []
        name.reserveCapacity(MDNSWire.maxNameLength)
        var i = MDNSWire.headerLength
        // Questions (a legacy unicast response repeats them, RFC 6762 §6.7): skipped.
        for _ in 0..<questions {
            i = try MDNSWire.readName(m, at: i, into: &name)
            guard i + 4 <= m.count else { throw .truncated }
            i += 4
        }
        // Answer, authority and additional records alike (RFC 1035 §4.1.3).
        for _ in 0..<records {
            i = try MDNSWire.readName(m, at: i, into: &name)
            guard i + 10 <= m.count else { throw .truncated }
            let type = m.loadBigEndianUInt16(at: i)
            let rclass = m.loadBigEndianUInt16(at: i + 2) & ~MDNSWire.topBit  // §10.2 cache-flush bit
            let ttl = m.loadBigEndianUInt32(at: i + 4)
            let length = Int(m.loadBigEndianUInt16(at: i + 8))
            let data = i + 10
            guard data + length <= m.count else { throw .truncated }
            i = data + length
            guard rclass == MDNSWire.classIN, type == MDNSWire.typeA || type == MDNSWire.typeAAAA else { continue }
            guard length == (type == MDNSWire.typeA ? 4 : 16) else { throw .badAddressLength }
            guard self.records.count < Self.maxAddressRecords,
                  let address = IPAddress(bytes: UnsafeRawBufferPointer(rebasing: m[data..<(data + length)]))
            else { continue }
            self.records.append(MDNSAddressRecord(name: MDNSName(lowercasedWire: name), address: address, ttl: ttl))
        }
    }

    /// The distinct addresses of `name` with a nonzero TTL, in message order.
    public func addresses(for name: MDNSName) -> [IPAddress] {
        var out: [IPAddress] = []
        for r in records where r.ttl > 0 && r.name == name && !out.contains(r.address) { out.append(r.address) }
        return out
    }
}
