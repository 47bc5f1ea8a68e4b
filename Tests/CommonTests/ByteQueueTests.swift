import Common
import Testing

@Suite struct ByteQueueTests {
    func append(_ q: ByteQueue, _ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { q.append($0) } }
    func pending(_ q: ByteQueue) -> [UInt8] { Array(q.pending) }

    @Test func bytesComeOutInOrderAcrossCompaction() {
        let q = ByteQueue(capacity: 8)
        #expect(append(q, [1, 2, 3, 4, 5, 6]))
        q.consume(4)
        // 2 pending at the back, 6 more need the front: the pending bytes move, order kept.
        #expect(append(q, [7, 8, 9, 10, 11, 12]))
        #expect(pending(q) == [5, 6, 7, 8, 9, 10, 11, 12])
        #expect(q.count == 8)
    }

    @Test func aFullQueueTakesNothing() {
        let q = ByteQueue(capacity: 4)
        #expect(append(q, [1, 2, 3]))
        #expect(!append(q, [4, 5]))
        #expect(pending(q) == [1, 2, 3])
        #expect(append(q, [4]))
        #expect(!append(q, [5]))
    }

    @Test func pendingViewsStayPutWhenThereIsRoomAtTheBack() {
        let q = ByteQueue(capacity: 16)
        _ = append(q, [1, 2, 3, 4])
        q.consume(2)
        let before = q.pending.baseAddress
        _ = append(q, [5, 6])
        #expect(q.pending.baseAddress == before)
        #expect(pending(q) == [3, 4, 5, 6])
    }

    @Test func writableSpaceAndCommit() {
        let q = ByteQueue(capacity: 6)
        _ = append(q, [1, 2, 3])
        q.consume(2)
        let space = q.writableSpace()
        #expect(space.count == 5)  // the pending byte moved to the front
        space[0] = 9
        space[1] = 8
        q.commit(2)
        #expect(pending(q) == [3, 9, 8])
    }

    @Test func consumingEverythingResetsAndRemoveAllEmpties() {
        let q = ByteQueue(capacity: 4)
        _ = append(q, [1, 2, 3])
        q.consume(3)
        #expect(q.isEmpty)
        #expect(append(q, [4, 5, 6, 7]))  // the whole capacity is free again
        q.removeAll()
        #expect(q.isEmpty && q.count == 0)
    }
}
