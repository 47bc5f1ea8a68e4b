/// A first-in first-out ring of fixed capacity, allocated once (the fixed-capacity family's
/// queue of values, see `BoundedArray`): a full ring refuses the new element and keeps the
/// older ones.
public struct Ring<Element> {
    @usableFromInline var slots: [Element?]
    @usableFromInline var head = 0
    public private(set) var count = 0

    /// At least one slot.
    public init(capacity: Int) { slots = [Element?](repeating: nil, count: max(1, capacity)) }

    public var capacity: Int { slots.count }
    public var isEmpty: Bool { count == 0 }
    public var isFull: Bool { count >= slots.count }

    /// Appends unless full; returns whether it did.
    @discardableResult
    public mutating func push(_ e: Element) -> Bool {
        guard count < slots.count else { return false }
        slots[(head + count) % slots.count] = e
        count += 1
        return true
    }

    /// The oldest element, removed.
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

    /// Removes the elements that satisfy `drop`, keeping the others in order.
    public mutating func removeAll(where drop: (Element) -> Bool) {
        for _ in 0..<count {
            if let e = pop(), !drop(e) { push(e) }
        }
    }

    public mutating func removeAll() {
        while pop() != nil {}
        head = 0
    }
}
