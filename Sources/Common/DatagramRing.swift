/// Why a datagram did not go into a `DatagramRing`. Each refusal is also counted by the ring.
public enum DatagramRingError: Error, Equatable, Sendable {
    /// Every slot holds an unsent datagram. The new one is dropped and the queued ones are
    /// kept: they are older, and STUN retransmissions (RFC 8489 §6.2.1) or the next refresh
    /// recover whatever is lost either way.
    case full
    /// The datagram does not fit one slot (its writer could not build it, or the committed
    /// length exceeds the slot size).
    case oversize

    public var name: StaticString {
        switch self {
        case .full: return "full"
        case .oversize: return "oversize"
        }
    }
}

/// A datagram queued in a `DatagramRing`: from the local `source` to `destination`.
/// `bytes` points into the ring's storage and stays valid until the ring is next written to
/// (in practice: until the next call on the agent or client that owns the ring).
public struct Datagram {
    public var source: TransportAddress
    public var destination: TransportAddress
    public var bytes: UnsafeRawBufferPointer
}

/// A first-in first-out ring of datagram buffers (bytes plus addresses) with every slot
/// allocated once, at creation: queueing and dequeueing never touch the heap, so the packet
/// path of the ICE agent and the TURN client stays allocation-free after start-up
/// (docs/ARCHITECTURE.md, "Memory model"). A full ring refuses with a typed error and counts
/// the drop; it never grows, overwrites or traps.
///
/// Writing is in place: `reserve` hands out the next free slot, the caller builds its
/// message into it, and `commit` queues it with its length and addresses; `enqueue` does
/// both around a writer closure. A reserved slot that is never committed is simply reused.
public final class DatagramRing {
    struct Header {
        var source: TransportAddress
        var destination: TransportAddress
        var length: Int
    }

    /// The source of datagrams whose owner does not know its local address (the TURN client
    /// only knows its server; the caller's socket supplies the source).
    public static let unspecifiedSource = TransportAddress(.v4Any, 0)

    public let capacity: Int
    /// Bytes per slot: the largest datagram the ring can carry.
    public let slotSize: Int
    public private(set) var count = 0
    /// Datagrams refused because the ring was full.
    public private(set) var droppedFull = 0
    /// Datagrams refused because they did not fit a slot.
    public private(set) var droppedOversize = 0

    private let storage: UnsafeMutableRawBufferPointer
    private var headers: [Header]
    private var head = 0

    /// `capacity` slots (at least 1) of `slotSize` bytes (at least 1).
    public init(capacity: Int, slotSize: Int) {
        self.capacity = max(1, capacity)
        self.slotSize = max(1, slotSize)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: self.capacity * self.slotSize, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        headers = [Header](repeating: Header(source: Self.unspecifiedSource, destination: Self.unspecifiedSource, length: 0),
                           count: self.capacity)
    }

    deinit { storage.deallocate() }

    public var isEmpty: Bool { count == 0 }
    public var isFull: Bool { count >= capacity }
    /// Every refusal, whatever the reason.
    public var dropped: Int { droppedFull + droppedOversize }

    private var tail: Int { (head + count) % capacity }

    private func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(i * slotSize)..<((i + 1) * slotSize)])
    }

    /// The next free slot, `slotSize` bytes, to build a datagram into; `.full` (counted) when
    /// every slot is taken. Nothing is queued until `commit`.
    public func reserve() throws(DatagramRingError) -> UnsafeMutableRawBufferPointer {
        guard count < capacity else {
            droppedFull += 1
            throw .full
        }
        return slot(tail)
    }

    /// Queues the slot last returned by `reserve` with its first `length` bytes. A length of
    /// zero or beyond the slot is `.oversize` (counted) and queues nothing.
    public func commit(length: Int, from source: TransportAddress = DatagramRing.unspecifiedSource,
                       to destination: TransportAddress) throws(DatagramRingError) {
        guard count < capacity else {
            droppedFull += 1
            throw .full
        }
        guard length > 0 && length <= slotSize else {
            droppedOversize += 1
            throw .oversize
        }
        headers[tail] = Header(source: source, destination: destination, length: length)
        count += 1
    }

    /// `reserve`, then `write` builds the datagram into the slot and returns its length (0 when
    /// it could not: `.oversize`), then `commit`.
    public func enqueue(from source: TransportAddress = DatagramRing.unspecifiedSource, to destination: TransportAddress,
                        _ write: (UnsafeMutableRawBufferPointer) -> Int) throws(DatagramRingError) {
        let buffer = try reserve()
        try commit(length: write(buffer), from: source, to: destination)
    }

    /// The oldest queued datagram, or nil when empty. Its bytes stay valid until the ring is
    /// next written to.
    public func dequeue() -> Datagram? {
        guard count > 0 else { return nil }
        let i = head
        head = (head + 1) % capacity
        count -= 1
        let h = headers[i]
        let start = i * slotSize
        return Datagram(source: h.source, destination: h.destination,
                        bytes: UnsafeRawBufferPointer(rebasing: storage[start..<(start + h.length)]))
    }

    /// Forgets every queued datagram (the counters stay).
    public func removeAll() {
        head = 0
        count = 0
    }
}
