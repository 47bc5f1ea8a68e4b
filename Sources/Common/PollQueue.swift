/// A first-in first-out queue of reports an owner drains by polling (`pop` until nil). Unlike
/// the fixed tables it never refuses a report, since a lost state change or request cannot be
/// recovered; it is drained after every call, so it holds a handful at most, and its storage
/// is kept between drains, so a steady state allocates nothing.
public struct PollQueue<Element> {
    var items: [Element] = []
    var head = 0

    public init(reserving capacity: Int = 4) { items.reserveCapacity(capacity) }

    public var isEmpty: Bool { head >= items.count }

    public mutating func push(_ e: Element) { items.append(e) }

    public mutating func pop() -> Element? {
        guard head < items.count else { return nil }
        let e = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return e
    }
}
