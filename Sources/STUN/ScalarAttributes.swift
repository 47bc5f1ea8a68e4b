import Common

// Fixed-size values: PRIORITY, LIFETIME (uint32), ICE-CONTROLL(ED|ING) (uint64),
// CHANNEL-NUMBER and RESPONSE-PORT (uint16 + RFFU), REQUESTED-TRANSPORT (protocol + RFFU).

public func decodeUInt32(_ v: UnsafeRawBufferPointer) throws(AttributeError) -> UInt32 {
    guard v.count == 4 else { throw .wrongLength }
    return v.loadBigEndianUInt32(at: 0)
}

public func decodeUInt64(_ v: UnsafeRawBufferPointer) throws(AttributeError) -> UInt64 {
    guard v.count == 8 else { throw .wrongLength }
    return v.loadBigEndianUInt64(at: 0)
}

/// A 16-bit field followed by 16 reserved bits.
public func decodeUInt16(_ v: UnsafeRawBufferPointer) throws(AttributeError) -> UInt16 {
    guard v.count == 4 else { throw .wrongLength }
    return v.loadBigEndianUInt16(at: 0)
}

/// An 8-bit field followed by 24 reserved bits (REQUESTED-TRANSPORT, address families).
public func decodeUInt8(_ v: UnsafeRawBufferPointer) throws(AttributeError) -> UInt8 {
    guard v.count == 4 else { throw .wrongLength }
    return v[0]
}

extension Message {
    public func uint32(_ type: AttributeType) throws(AttributeError) -> UInt32? {
        guard let v = value(type) else { return nil }
        return try decodeUInt32(v)
    }

    public func uint64(_ type: AttributeType) throws(AttributeError) -> UInt64? {
        guard let v = value(type) else { return nil }
        return try decodeUInt64(v)
    }

    /// RFC 8445 §7.1.1 PRIORITY.
    public func priority() throws(AttributeError) -> UInt32? { try uint32(.priority) }

    /// RFC 8489 §14.3 USERNAME, at most 509 bytes, as a view.
    public func username() throws(AttributeError) -> UnsafeRawBufferPointer? {
        guard let v = value(.username) else { return nil }
        guard v.count <= 509 else { throw .tooLong }
        return v
    }
}
