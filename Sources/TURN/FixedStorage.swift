import Common

/// Fixed ring of datagram buffers, allocated once: `reserve` hands out the next free slot to
/// write into, `commit` queues it, `dequeue` returns a view that stays valid until the next
/// call on the client.
final class TransmitRing {
    let slotSize: Int
    let capacity: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var destinations: [TransportAddress]
    private var lengths: [Int]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int, slotSize: Int) {
        self.capacity = max(1, capacity)
        self.slotSize = max(64, slotSize)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: self.capacity * self.slotSize, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        destinations = [TransportAddress](repeating: TransportAddress(.v4(0), 0), count: self.capacity)
        lengths = [Int](repeating: 0, count: self.capacity)
    }

    deinit { storage.deallocate() }

    /// The next free slot, or nil when the ring is full.
    func reserve() -> UnsafeMutableRawBufferPointer? {
        guard count < capacity else { return nil }
        let slot = (head + count) % capacity
        return UnsafeMutableRawBufferPointer(rebasing: storage[(slot * slotSize)..<((slot + 1) * slotSize)])
    }

    /// Queues the slot last returned by `reserve` with `length` bytes.
    func commit(length: Int, to destination: TransportAddress) {
        precondition(count < capacity && length > 0 && length <= slotSize)
        let slot = (head + count) % capacity
        destinations[slot] = destination
        lengths[slot] = length
        count += 1
    }

    func dequeue() -> (TransportAddress, UnsafeRawBufferPointer)? {
        guard count > 0 else { return nil }
        let slot = head
        head = (head + 1) % capacity
        count -= 1
        let start = slot * slotSize
        return (destinations[slot], UnsafeRawBufferPointer(rebasing: storage[start..<(start + lengths[slot])]))
    }

    func removeAll() {
        head = 0
        count = 0
    }
}

/// A byte string of bounded length kept in storage reserved once (NONCE, REALM,
/// PASSWORD-ALGORITHMS): replacing the value never allocates.
struct BoundedBytes {
    private(set) var bytes: [UInt8]
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        bytes = []
        bytes.reserveCapacity(limit)
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// Replaces the value; false (and unchanged) if it is longer than `limit`.
    mutating func set(_ value: UnsafeRawBufferPointer) -> Bool {
        guard value.count <= limit else { return false }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: value)
        return true
    }

    mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { $0.bytesEqual(other) }
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        bytes.withUnsafeBytes(body)
    }
}
