import Common

// MAPPED-ADDRESS family (RFC 8489 §14.1) and the XOR-ed forms (§14.2, RFC 8656 §18.3/18.5).

enum AddressFamily {
    static let ipv4: UInt8 = 0x01
    static let ipv6: UInt8 = 0x02
}

/// Decodes a MAPPED-ADDRESS-style value: 0, family, port, address.
public func decodeAddress(_ v: UnsafeRawBufferPointer) throws(AttributeError) -> TransportAddress {
    guard v.count >= 4 else { throw .wrongLength }
    let port = v.loadBigEndianUInt16(at: 2)
    switch v[1] {
    case AddressFamily.ipv4:
        guard v.count == 8 else { throw .wrongLength }
        return TransportAddress(.v4(v.loadBigEndianUInt32(at: 4)), port)
    case AddressFamily.ipv6:
        guard v.count == 20 else { throw .wrongLength }
        return TransportAddress(.v6(v.loadBigEndianUInt64(at: 4), v.loadBigEndianUInt64(at: 12)), port)
    default:
        throw .unknownAddressFamily
    }
}

/// The 128-bit XOR mask for IPv6: magic cookie followed by the transaction id (§14.2).
@inline(__always)
func xorMask(_ id: TransactionID) -> (UInt64, UInt64) {
    (UInt64(magicCookie) << 32 | UInt64(id.high), id.low)
}

/// Decodes an XOR-MAPPED-ADDRESS-style value, undoing the XOR with cookie and transaction id.
public func decodeXORAddress(_ v: UnsafeRawBufferPointer, transactionID: TransactionID) throws(AttributeError) -> TransportAddress {
    let plain = try decodeAddress(v)
    let port = plain.port ^ UInt16(magicCookie >> 16)
    switch plain.ip {
    case .v4(let a):
        return TransportAddress(.v4(a ^ magicCookie), port)
    case .v6(let hi, let lo):
        let mask = xorMask(transactionID)
        return TransportAddress(.v6(hi ^ mask.0, lo ^ mask.1), port)
    }
}

func addressValueLength(_ a: TransportAddress) -> Int { 4 + a.ip.byteCount }

func writeAddress(_ a: TransportAddress, xor id: TransactionID?, into v: UnsafeMutableRawBufferPointer) {
    v[0] = 0
    v[1] = a.ip.isIPv4 ? AddressFamily.ipv4 : AddressFamily.ipv6
    var ip = a.ip
    var port = a.port
    if let id {
        port ^= UInt16(magicCookie >> 16)
        switch ip {
        case .v4(let x): ip = .v4(x ^ magicCookie)
        case .v6(let hi, let lo):
            let mask = xorMask(id)
            ip = .v6(hi ^ mask.0, lo ^ mask.1)
        }
    }
    v.storeBigEndian(port, at: 2)
    ip.write(to: UnsafeMutableRawBufferPointer(rebasing: v[4...]))
}

extension Message {
    /// XOR-MAPPED-ADDRESS, falling back to MAPPED-ADDRESS (classic servers, RFC 8489 §14.1).
    public func mappedAddress() throws(AttributeError) -> TransportAddress? {
        if !isClassic, let v = value(.xorMappedAddress) {
            return try decodeXORAddress(v, transactionID: transactionID)
        }
        if let v = value(.mappedAddress) { return try decodeAddress(v) }
        return nil
    }

    /// Any XOR-encoded address attribute (XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS...).
    public func xorAddress(_ type: AttributeType) throws(AttributeError) -> TransportAddress? {
        guard let v = value(type) else { return nil }
        return try decodeXORAddress(v, transactionID: transactionID)
    }

    /// Any plain address attribute (ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS...).
    public func address(_ type: AttributeType) throws(AttributeError) -> TransportAddress? {
        guard let v = value(type) else { return nil }
        return try decodeAddress(v)
    }
}
