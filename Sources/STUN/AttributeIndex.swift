/// Where one attribute's value sits inside the message bytes.
public struct AttributeEntry: Sendable {
    public var type: AttributeType
    /// Length of the value, without padding.
    public var length: UInt16
    /// Offset of the value from the start of the message.
    public var offset: UInt32
}

/// A fixed-capacity index of attributes: filled by the one validating pass, so lookups never
/// rescan the message and parsing never touches the heap.
///
/// Like `Message`, a view over the message bytes: an entry is the offset of its value, and its
/// type and length are read back from the attribute's header just before it. That keeps an
/// index at 32 x 2 bytes (a type, length and offset each was 256 bytes, zeroed and copied on
/// every parse: a third of its time).
public struct AttributeIndex {
    /// Real STUN/TURN/ICE messages carry about ten attributes; 32 leaves room for extensions.
    public static let capacity = 32
    /// The message's first byte.
    let base: UnsafeRawPointer?
    /// Entry i's value offset / 4 (values sit on 4-byte boundaries and a message is at most
    /// 20 + 65535 bytes, so 15 bits), four per word.
    var quarters = InlineArray<8, UInt64>(repeating: 0)
    public private(set) var count = 0

    @inline(__always)
    init(base: UnsafeRawPointer?) { self.base = base }

    /// Indexes the attribute whose value starts at `offset`, a multiple of 4.
    @inline(__always)
    mutating func append(valueOffset offset: Int) -> Bool {
        guard count < Self.capacity else { return false }
        let shift = UInt64(truncatingIfNeeded: (count & 3) &* 16)
        quarters[count >> 2] |= UInt64(truncatingIfNeeded: offset >> 2) << shift
        count &+= 1
        return true
    }

    @inline(__always)
    func valueOffset(_ i: Int) -> Int {
        Int(truncatingIfNeeded: (quarters[i >> 2] >> UInt64(truncatingIfNeeded: (i & 3) &* 16)) & 0xFFFF) << 2
    }

    public subscript(i: Int) -> AttributeEntry {
        precondition(i >= 0 && i < count)
        let offset = valueOffset(i)
        let header = UInt32(bigEndian: base!.loadUnaligned(fromByteOffset: offset &- 4, as: UInt32.self))
        return AttributeEntry(type: AttributeType(UInt16(truncatingIfNeeded: header >> 16)),
                              length: UInt16(truncatingIfNeeded: header), offset: UInt32(truncatingIfNeeded: offset))
    }

    /// The first entry of a type (RFC 8489 §14: later duplicates are ignored).
    public func first(_ type: AttributeType) -> AttributeEntry? {
        for i in 0..<count {
            let offset = valueOffset(i)
            let raw = UInt16(bigEndian: base!.loadUnaligned(fromByteOffset: offset &- 4, as: UInt16.self))
            if raw == type.rawValue { return self[i] }
        }
        return nil
    }
}

/// Up to eight unknown comprehension-required attribute types, for a 420 response's
/// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9). More than eight is still "unknown"; the list is capped.
public struct UnknownAttributes: Sendable {
    public static let capacity = 8
    var types = InlineArray<8, UInt16>(repeating: 0)
    public private(set) var count = 0

    @inline(__always)
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
