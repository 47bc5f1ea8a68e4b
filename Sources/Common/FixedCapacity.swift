/// An array whose storage is reserved once, at creation, for `capacity` elements. Appending
/// beyond it is refused (the caller turns that into a typed error) instead of reallocating,
/// so tables never allocate after start-up. Kept private to its owner: a copy that is then
/// mutated would allocate.
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

    @inlinable public mutating func remove(at i: Int) -> Element { storage.remove(at: i) }
    @inlinable public mutating func removeFirst() -> Element { storage.removeFirst() }
    /// Keeps the reserved storage.
    @inlinable public mutating func removeAll() { storage.removeAll(keepingCapacity: true) }
}

/// A first-in first-out ring of fixed capacity, allocated once.
public struct Ring<Element> {
    @usableFromInline var slots: [Element?]
    @usableFromInline var head = 0
    public private(set) var count = 0

    public init(capacity: Int) { slots = [Element?](repeating: nil, count: max(1, capacity)) }

    public var capacity: Int { slots.count }
    public var isEmpty: Bool { count == 0 }

    /// Appends unless full; returns whether it did.
    @discardableResult
    public mutating func push(_ e: Element) -> Bool {
        guard count < slots.count else { return false }
        slots[(head + count) % slots.count] = e
        count += 1
        return true
    }

    public mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let e = slots[head]
        slots[head] = nil
        head = (head + 1) % slots.count
        count -= 1
        return e
    }

    public func contains(where p: (Element) -> Bool) -> Bool {
        first(where: p) != nil
    }

    /// The oldest element that satisfies `p`, left in place.
    public func first(where p: (Element) -> Bool) -> Element? {
        for i in 0..<count {
            let e = slots[(head + i) % slots.count]!
            if p(e) { return e }
        }
        return nil
    }

    public mutating func removeAll() {
        while pop() != nil {}
        head = 0
    }
}
