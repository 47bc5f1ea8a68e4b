/// Where one attribute's value sits inside the message bytes.
public struct AttributeEntry: Sendable {
    public var type: AttributeType
    /// Length of the value, without padding.
    public var length: UInt16
    /// Offset of the value from the start of the message.
    public var offset: UInt32

    static let empty = AttributeEntry(type: AttributeType(0), length: 0, offset: 0)
}

/// A fixed-capacity index of attributes: filled by the one validating pass, so lookups never
/// rescan the message and parsing never touches the heap.
public struct AttributeIndex: Sendable {
    /// Real STUN/TURN/ICE messages carry about ten attributes; 32 leaves room for extensions.
    public static let capacity = 32
    var entries = InlineArray<32, AttributeEntry>(repeating: .empty)
    public private(set) var count = 0

    @inline(__always)
    mutating func append(_ e: AttributeEntry) -> Bool {
        guard count < Self.capacity else { return false }
        entries[count] = e
        count += 1
        return true
    }

    public subscript(i: Int) -> AttributeEntry {
        precondition(i >= 0 && i < count)
        return entries[i]
    }

    /// The first entry of a type (RFC 8489 §14: later duplicates are ignored).
    public func first(_ type: AttributeType) -> AttributeEntry? {
        for i in 0..<count where entries[i].type == type { return entries[i] }
        return nil
    }
}

/// Up to eight unknown comprehension-required attribute types, for a 420 response's
/// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9). More than eight is still "unknown"; the list is capped.
public struct UnknownAttributes: Sendable {
    public static let capacity = 8
    var types = InlineArray<8, UInt16>(repeating: 0)
    public private(set) var count = 0

    public init() {}

    public mutating func append(_ t: AttributeType) {
        for i in 0..<count where types[i] == t.rawValue { return }
        guard count < Self.capacity else { return }
        types[count] = t.rawValue
        count += 1
    }

    public var isEmpty: Bool { count == 0 }
    public subscript(i: Int) -> AttributeType { AttributeType(types[i]) }
}
