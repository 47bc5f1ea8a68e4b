import Common

/// ERROR-CODE (RFC 8489 §14.8): class (3-6) and number (0-99), plus a UTF-8 reason phrase
/// that stays a view into the message.
public struct ErrorCode {
    public var code: Int
    public var reason: UnsafeRawBufferPointer

    public init(_ v: UnsafeRawBufferPointer) throws(AttributeError) {
        guard v.count >= 4 else { throw .wrongLength }
        guard v.count <= 4 + 763 else { throw .tooLong }
        let cls = Int(v[2] & 0x07)
        let number = Int(v[3])
        guard cls >= 3 && cls <= 6 && number < 100 else { throw .invalidErrorClass }
        code = cls * 100 + number
        reason = UnsafeRawBufferPointer(rebasing: v[4...])
    }

    public static let badRequest = 400
    public static let unauthorized = 401
    public static let roleConflict = 487

    /// Reason phrases RFC 8489 §14.8 and RFC 8445 §7.3.1.1 recommend.
    public static func defaultReason(_ code: Int) -> StaticString {
        switch code {
        case 300: return "Try Alternate"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 420: return "Unknown Attribute"
        case 437: return "Allocation Mismatch"
        case 438: return "Stale Nonce"
        case 440: return "Address Family not Supported"
        case 441: return "Wrong Credentials"
        case 442: return "Unsupported Transport Protocol"
        case 443: return "Peer Address Family Mismatch"
        case 486: return "Allocation Quota Reached"
        case 487: return "Role Conflict"
        case 500: return "Server Error"
        case 508: return "Insufficient Capacity"
        default: return ""
        }
    }
}

/// ADDRESS-ERROR-CODE (RFC 8656 §18.13, from RFC 6156): the address family the error is about,
/// then the ERROR-CODE layout.
public struct AddressErrorCode {
    /// 0x01 IPv4, 0x02 IPv6.
    public var family: UInt8
    public var error: ErrorCode

    public init(_ v: UnsafeRawBufferPointer) throws(AttributeError) {
        guard v.count >= 4 else { throw .wrongLength }
        family = v[0]
        error = try ErrorCode(v)
    }
}

extension Message {
    public func addressErrorCode() throws(AttributeError) -> AddressErrorCode? {
        guard let v = value(.addressErrorCode) else { return nil }
        return try AddressErrorCode(v)
    }

    public func errorCode() throws(AttributeError) -> ErrorCode? {
        guard let v = value(.errorCode) else { return nil }
        return try ErrorCode(v)
    }
}
