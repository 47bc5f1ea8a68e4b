/// An array whose storage is reserved once, at creation, for `capacity` elements. One of the
/// fixed-capacity containers (with `Ring`, `BoundedBytes`, `ByteQueue`, `DatagramRing`): a
/// full container refuses what does not fit, with a `Bool` or typed-error result the caller
/// turns into its own typed error and counter; it never grows and never traps. So tables never
/// allocate after start-up. Kept private to its owner: a copy that is then mutated would
/// allocate.
public struct BoundedArray<Element>: RandomAccessCollection, MutableCollection {
    @usableFromInline var storage: [Element]
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        storage = []
        storage.reserveCapacity(capacity)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storage.count }
    @inlinable public var count: Int { storage.count }
    @inlinable public var isFull: Bool { storage.count >= capacity }

    /// Appends unless full; returns whether it did.
    @inlinable @discardableResult
    public mutating func append(_ e: Element) -> Bool {
        guard storage.count < capacity else { return false }
        storage.append(e)
        return true
    }

    @inlinable public subscript(i: Int) -> Element {
        get { storage[i] }
        _modify { yield &storage[i] }
        set { storage[i] = newValue }
    }

    @inlinable @discardableResult
    public mutating func remove(at i: Int) -> Element { storage.remove(at: i) }
    @inlinable @discardableResult
    public mutating func removeFirst() -> Element { storage.removeFirst() }
    /// Removes in place, keeping the order of the rest and the reserved storage.
    @inlinable public mutating func removeAll(where drop: (Element) -> Bool) {
        var kept = 0
        for i in storage.indices where !drop(storage[i]) {
            if kept != i { storage.swapAt(kept, i) }
            kept += 1
        }
        storage.removeLast(storage.count - kept)
    }
    /// Keeps the reserved storage.
    @inlinable public mutating func removeAll() { storage.removeAll(keepingCapacity: true) }
}
