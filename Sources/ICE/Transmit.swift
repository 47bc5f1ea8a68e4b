import Common

/// A datagram the agent wants sent: from the local base `source` to `destination`.
/// `bytes` points into the agent's transmit ring and stays valid until the next call on the agent.
public struct Transmit {
    public var source: TransportAddress
    public var destination: TransportAddress
    public var bytes: UnsafeRawBufferPointer
}

/// Fixed ring of datagram buffers, allocated once. Full means the oldest unsent datagram is
/// kept and the new one dropped (and counted): STUN retransmits cover it.
final class TransmitQueue {
    static let slotSize = 1280  // IPv6 minimum MTU: every STUN message we build fits
    let storage: UnsafeMutableRawBufferPointer
    let capacity: Int
    var sources: [TransportAddress]
    var destinations: [TransportAddress]
    var lengths: [Int]
    var head = 0
    var count = 0
    var dropped = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * Self.slotSize, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        let zero = TransportAddress(.v4(0), 0)
        sources = [TransportAddress](repeating: zero, count: capacity)
        destinations = [TransportAddress](repeating: zero, count: capacity)
        lengths = [Int](repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Lets `write` fill the next free slot; it returns the length (0: nothing to send).
    /// Returns false when the ring is full.
    @discardableResult
    func enqueue(from: TransportAddress, to: TransportAddress, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard count < capacity else {
            dropped += 1
            return false
        }
        let slot = (head + count) % capacity
        let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[(slot * Self.slotSize)..<((slot + 1) * Self.slotSize)])
        let n = write(buffer)
        guard n > 0 else { return true }
        sources[slot] = from
        destinations[slot] = to
        lengths[slot] = n
        count += 1
        return true
    }

    func dequeue() -> Transmit? {
        guard count > 0 else { return nil }
        let slot = head
        head = (head + 1) % capacity
        count -= 1
        let start = slot * Self.slotSize
        return Transmit(source: sources[slot], destination: destinations[slot],
                        bytes: UnsafeRawBufferPointer(rebasing: storage[start..<(start + lengths[slot])]))
    }
}
