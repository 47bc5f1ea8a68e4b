import Common

/// RFC 8489 §5: the fixed value in bytes 4-7 of every RFC 5389/8489 message.
public let magicCookie: UInt32 = 0x2112_A442

/// RFC 8489 §5: the two class bits C1 C0.
public enum MessageClass: UInt8, Sendable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11

    public var name: StaticString {
        switch self {
        case .request: return "request"
        case .indication: return "indication"
        case .successResponse: return "success"
        case .errorResponse: return "error"
        }
    }
}

/// The 12-bit STUN method (RFC 8489 §18.2, RFC 8656 §17).
public struct Method: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    public static let binding = Method(rawValue: 0x001)
    public static let allocate = Method(rawValue: 0x003)
    public static let refresh = Method(rawValue: 0x004)
    public static let send = Method(rawValue: 0x006)
    public static let data = Method(rawValue: 0x007)
    public static let createPermission = Method(rawValue: 0x008)
    public static let channelBind = Method(rawValue: 0x009)

    /// Lower-case name as used by `ice-agent stun decode`, nil for an unregistered method.
    public var name: StaticString? {
        switch rawValue {
        case 0x001: return "binding"
        case 0x003: return "allocate"
        case 0x004: return "refresh"
        case 0x006: return "send"
        case 0x007: return "data"
        case 0x008: return "createpermission"
        case 0x009: return "channelbind"
        default: return nil
        }
    }
}

/// Method and class, packed into the 14-bit message type field (RFC 8489 §5, Figure 3).
public struct MessageType: Hashable, Sendable {
    public var method: Method
    public var messageClass: MessageClass

    public init(_ method: Method, _ messageClass: MessageClass) {
        self.method = method
        self.messageClass = messageClass
    }

    public init(rawValue t: UInt16) {
        let m = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)
        method = Method(rawValue: m)
        // Bits C1 (0x0100) and C0 (0x0010); a switch, as every parse runs this.
        switch t & 0x0110 {
        case 0x0000: messageClass = .request
        case 0x0010: messageClass = .indication
        case 0x0100: messageClass = .successResponse
        default: messageClass = .errorResponse
        }
    }

    public var rawValue: UInt16 {
        let m = method.rawValue
        let c = UInt16(messageClass.rawValue)
        return (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    public static let bindingRequest = MessageType(.binding, .request)
    public static let bindingSuccess = MessageType(.binding, .successResponse)
    public static let bindingError = MessageType(.binding, .errorResponse)
    public static let bindingIndication = MessageType(.binding, .indication)
}

/// The 96-bit transaction id (RFC 8489 §5). For classic RFC 3489 messages the id is 128 bits:
/// the first 32 sit where the magic cookie would be and are kept in `Message.cookieField`.
public struct TransactionID: Hashable, Sendable {
    public var high: UInt32
    public var low: UInt64

    public init(high: UInt32, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads 12 bytes.
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 12)
        high = bytes.loadBigEndianUInt32(at: 0)
        low = bytes.loadBigEndianUInt64(at: 4)
    }

    /// RFC 8489 §6: uniformly random from the injected source.
    public init<R: RandomSource>(random: inout R) {
        high = UInt32(truncatingIfNeeded: random.next())
        low = random.next()
    }

    public func write(to out: UnsafeMutableRawBufferPointer) {
        out.storeBigEndian(high, at: 0)
        out.storeBigEndian(low, at: 4)
    }

    /// 24 lower-case hex digits.
    public var hex: String {
        var bytes = InlineArray<12, UInt8>(repeating: 0)
        var span = bytes.mutableSpan
        span.withUnsafeMutableBytes { write(to: $0) }
        return bytes.span.withUnsafeBytes { hexString($0) }
    }
}
