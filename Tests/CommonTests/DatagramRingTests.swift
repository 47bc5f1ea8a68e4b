import Common
import Testing

@Suite struct DatagramRingTests {
    let a = TransportAddress(.v4(0xC000_0201), 1000)  // 192.0.2.1
    let b = TransportAddress(.v4(0xC633_6401), 2000)  // 198.51.100.1

    /// Queues `bytes` with `enqueue`; the error as a value (typed-throws closures through
    /// `withUnsafeBytes` are avoided, as elsewhere in the tests).
    func put(_ ring: DatagramRing, _ bytes: [UInt8], from: TransportAddress? = nil, to: TransportAddress) -> DatagramRingError? {
        do throws(DatagramRingError) {
            try ring.enqueue(from: from ?? DatagramRing.unspecifiedSource, to: to) { slot in
                guard bytes.count <= slot.count else { return 0 }
                for (i, x) in bytes.enumerated() { slot[i] = x }
                return bytes.count
            }
            return nil
        } catch {
            return error
        }
    }

    func take(_ ring: DatagramRing) -> (source: TransportAddress, destination: TransportAddress, bytes: [UInt8])? {
        ring.dequeue().map { ($0.source, $0.destination, Array($0.bytes)) }
    }

    @Test func firstInFirstOutWithAddresses() {
        let ring = DatagramRing(capacity: 4, slotSize: 16)
        #expect(ring.isEmpty && ring.dequeue() == nil)
        #expect(put(ring, [1], from: a, to: b) == nil)
        #expect(put(ring, [2, 2], from: b, to: a) == nil)
        #expect(put(ring, [3, 3, 3], to: b) == nil)
        #expect(ring.count == 3)
        let first = take(ring)
        #expect(first?.source == a && first?.destination == b && first?.bytes == [1])
        let second = take(ring)
        #expect(second?.source == b && second?.destination == a && second?.bytes == [2, 2])
        let third = take(ring)
        #expect(third?.source == DatagramRing.unspecifiedSource && third?.destination == b && third?.bytes == [3, 3, 3])
        #expect(take(ring) == nil && ring.isEmpty)
    }

    @Test func wrapsAroundKeepingOrderAndLengths() {
        let ring = DatagramRing(capacity: 3, slotSize: 8)
        var next: UInt8 = 0, expected: UInt8 = 0
        // Interleave puts and takes so head and tail pass the end of the storage many times;
        // each datagram has its own length, so a stale length would show.
        for round in 0..<20 {
            for _ in 0..<(round % 3 + 1) {
                #expect(put(ring, [UInt8](repeating: next, count: Int(next % 8) + 1), to: b) == nil)
                next &+= 1
            }
            while let d = take(ring) {
                #expect(d.bytes == [UInt8](repeating: expected, count: Int(expected % 8) + 1))
                expected &+= 1
            }
        }
        #expect(expected == next && ring.dropped == 0)
    }

    @Test func fullIsATypedCountedRefusalThatKeepsTheQueuedDatagrams() {
        let ring = DatagramRing(capacity: 2, slotSize: 8)
        #expect(put(ring, [1], to: a) == nil)
        #expect(put(ring, [2], to: a) == nil)
        #expect(ring.isFull)
        #expect(put(ring, [3], to: a) == .full)
        #expect(throws: DatagramRingError.full) { _ = try ring.reserve() }
        #expect(throws: DatagramRingError.full) { try ring.commit(length: 1, to: a) }
        #expect(ring.droppedFull == 3 && ring.droppedOversize == 0 && ring.dropped == 3)
        // The oldest were kept; space frees up as they are taken.
        #expect(take(ring)?.bytes == [1])
        #expect(put(ring, [4], to: a) == nil)
        #expect(take(ring)?.bytes == [2])
        #expect(take(ring)?.bytes == [4])
        #expect(take(ring) == nil)
    }

    @Test func oversizeDatagramsAreRefusedAndCounted() throws {
        let ring = DatagramRing(capacity: 2, slotSize: 8)
        // The writer could not fit it (returns 0).
        #expect(put(ring, [UInt8](repeating: 9, count: 9), to: a) == .oversize)
        // A committed length beyond the slot, or none.
        let slot = try ring.reserve()
        #expect(slot.count == 8)
        #expect(throws: DatagramRingError.oversize) { try ring.commit(length: 9, to: a) }
        #expect(throws: DatagramRingError.oversize) { try ring.commit(length: 0, to: a) }
        #expect(ring.droppedOversize == 3 && ring.droppedFull == 0 && ring.isEmpty)
        // Exactly one slot fits; nothing refused went in.
        #expect(put(ring, [UInt8](repeating: 7, count: 8), to: a) == nil)
        #expect(take(ring)?.bytes == [UInt8](repeating: 7, count: 8))
        #expect(take(ring) == nil)
    }

    @Test func reserveThenCommitWritesInPlace() throws {
        let ring = DatagramRing(capacity: 2, slotSize: 4)
        let slot = try ring.reserve()
        slot[0] = 0xAB
        slot[1] = 0xCD
        // Reserving again without committing hands out the same slot.
        #expect(try ring.reserve().baseAddress == slot.baseAddress)
        try ring.commit(length: 2, from: a, to: b)
        #expect(try ring.reserve().baseAddress != slot.baseAddress)
        let d = try #require(ring.dequeue())
        #expect(d.bytes.baseAddress == UnsafeRawPointer(slot.baseAddress))
        #expect(Array(d.bytes) == [0xAB, 0xCD] && d.source == a && d.destination == b)
    }

    @Test func removeAllEmptiesAndKeepsCounters() {
        let ring = DatagramRing(capacity: 1, slotSize: 4)
        #expect(put(ring, [1], to: a) == nil)
        #expect(put(ring, [2], to: a) == .full)
        ring.removeAll()
        #expect(ring.isEmpty && ring.droppedFull == 1)
        #expect(put(ring, [3], to: a) == nil)
        #expect(take(ring)?.bytes == [3])
    }

    @Test func capacityAndSlotSizeAreAtLeastOne() {
        let ring = DatagramRing(capacity: 0, slotSize: 0)
        #expect(ring.capacity == 1 && ring.slotSize == 1)
        #expect(put(ring, [5], to: a) == nil)
        #expect(take(ring)?.bytes == [5])
    }
}
