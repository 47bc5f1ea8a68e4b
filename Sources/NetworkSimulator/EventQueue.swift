import Common

/// A min-heap of timed items, stable for equal times: items due at the same instant come out
/// in the order they were pushed (a sequence number breaks ties), so simulations are
/// reproducible whatever the heap's internal layout.
struct EventQueue<Item> {
    private struct Entry {
        var time: Instant
        var sequence: UInt64
        var item: Item

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: Instant? { heap.first?.time }

    mutating func push(_ item: Item, at time: Instant) {
        heap.append(Entry(time: time, sequence: nextSequence, item: item))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest item if it is due at or before `time`.
    mutating func popIfDue(at time: Instant) -> (time: Instant, item: Item)? {
        guard let first = heap.first, first.time <= time else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (first.time, first.item)
    }
}
