import Common
import Testing

/// The fixed-capacity containers refuse what does not fit and keep what they hold; removals
/// keep the order of the rest.
@Suite struct BoundedContainerTests {
    @Test func aFullBoundedArrayRefusesAndKeepsItsElements() {
        var a = BoundedArray<Int>(capacity: 3)
        let filled = a.append(1) && a.append(2) && a.append(3)
        #expect(filled && a.isFull)
        let fourth = a.append(4)
        #expect(!fourth)
        #expect(Array(a) == [1, 2, 3] && a.capacity == 3)
        a.remove(at: 0)
        let afterRemoval = a.append(4)
        #expect(afterRemoval && Array(a) == [2, 3, 4])
        var none = BoundedArray<Int>(capacity: 0)
        let intoNone = none.append(1)
        #expect(!intoNone && none.isEmpty)
    }

    @Test func boundedArrayRemoveWhereKeepsTheOrderOfTheRest() {
        var a = BoundedArray<Int>(capacity: 8)
        for i in 1...8 { a.append(i) }
        a.removeAll { $0 % 3 == 0 }
        #expect(Array(a) == [1, 2, 4, 5, 7, 8])
        a.removeAll { $0 == 1 || $0 == 8 }
        #expect(Array(a) == [2, 4, 5, 7])
        let refilled = a.append(10) && a.append(11) && a.append(12) && a.append(13)
        let overflow = a.append(14)
        #expect(refilled && !overflow && a.count == 8)
    }

    @Test func aRingIsFirstInFirstOutAcrossTheWrapAndRefusesWhenFull() {
        var r = Ring<Int>(capacity: 3)
        let filled = r.push(1) && r.push(2) && r.push(3)
        let fourth = r.push(4)
        #expect(filled && r.isFull && !fourth)
        let first = r.pop()
        let wrapped = r.push(4)  // into the slot 1 left, at the front of the storage
        #expect(first == 1 && wrapped)
        #expect(r.first { $0 > 2 } == 3)
        var out: [Int] = []
        while let e = r.pop() { out.append(e) }
        #expect(out == [2, 3, 4] && r.isEmpty)
    }

    @Test func ringRemoveWhereKeepsTheOrderOfTheRest() {
        var r = Ring<Int>(capacity: 4)
        r.push(0)
        _ = r.pop()  // the head is off slot 0, so the kept elements wrap
        for i in 1...4 { r.push(i) }
        r.removeAll { $0 == 2 }
        #expect(r.count == 3)
        let fifth = r.push(5), sixth = r.push(6)
        #expect(fifth && !sixth)
        var out: [Int] = []
        while let e = r.pop() { out.append(e) }
        #expect(out == [1, 3, 4, 5])
    }

    @Test func boundedBytesRefusesATooLongValueAndKeepsTheOldOne() {
        var b = BoundedBytes(capacity: 4)
        let abc: [UInt8] = [0x61, 0x62, 0x63], long: [UInt8] = [1, 2, 3, 4, 5], four: [UInt8] = [9, 9, 9, 9]
        let setABC = abc.withUnsafeBytes { b.set($0) }
        let setLong = long.withUnsafeBytes { b.set($0) }
        #expect(setABC && !setLong)
        #expect(b.bytes == abc && abc.withUnsafeBytes { b.equals($0) })
        let setFour = four.withUnsafeBytes { b.set($0) }
        #expect(setFour && b.count == 4)
        b.removeAll()
        #expect(b.isEmpty && b.capacity == 4)
    }

    @Test func aByteQueueIsFullWhenNoByteFits() {
        let q = ByteQueue(capacity: 2)
        let two: [UInt8] = [1, 2], one: [UInt8] = [3]
        #expect(two.withUnsafeBytes { q.append($0) } && q.isFull)
        #expect(!one.withUnsafeBytes { q.append($0) })
        q.consume(1)
        #expect(!q.isFull && one.withUnsafeBytes { q.append($0) } && q.isFull)
    }
}
