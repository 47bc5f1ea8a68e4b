import Common
import Runtime
import Testing

/// A datagram longer than the receive buffer is cut by the kernel; the socket must drop it and
/// count it instead of handing its first bytes on as a whole packet.
@Suite struct UDPSocketTests {
    func pair() throws -> (UDPSocket, UDPSocket) {
        (try UDPSocket(bind: TransportAddress(.v4Loopback, 0)), try UDPSocket(bind: TransportAddress(.v4Loopback, 0)))
    }

    func send(_ s: UDPSocket, _ count: Int, fill: UInt8, to: UDPSocket) throws {
        let bytes = [UInt8](repeating: fill, count: count)
        try bytes.withUnsafeBytes { try s.send($0, to: to.localAddress) }
    }

    @Test func anOversizedDatagramIsCountedAndDroppedAndTheNextOneArrivesWhole() throws {
        let (tx, rx) = try pair()
        try send(tx, 3000, fill: 0xAA, to: rx)
        try send(tx, 100, fill: 0x55, to: rx)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = try buffer.withUnsafeMutableBytes { try rx.tryReceive(into: $0) }
        #expect(got?.count == 100)
        #expect(got?.from == tx.localAddress)
        #expect(buffer[0] == 0x55)
        #expect(rx.truncatedDatagrams == 1)
        #expect(try buffer.withUnsafeMutableBytes { try rx.tryReceive(into: $0) } == nil)
    }

    @Test func aDatagramThatFillsTheBufferExactlyIsNotTruncated() throws {
        let (tx, rx) = try pair()
        try send(tx, 2048, fill: 0x11, to: rx)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = try buffer.withUnsafeMutableBytes { try rx.tryReceive(into: $0) }
        #expect(got?.count == 2048)
        #expect(rx.truncatedDatagrams == 0)
    }

    @Test func theWaitingReceiveDropsOversizedDatagramsToo() throws {
        let (tx, rx) = try pair()
        try send(tx, 4000, fill: 0xAA, to: rx)
        try send(tx, 20, fill: 0x77, to: rx)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = try buffer.withUnsafeMutableBytes { try rx.receive(into: $0, timeoutMilliseconds: 1000) }
        #expect(got?.count == 20)
        #expect(buffer[0] == 0x77)
        #expect(rx.truncatedDatagrams == 1)
        // Only oversized ones queued: the wait ends at its timeout, not at once and not never.
        try send(tx, 4000, fill: 0xAA, to: rx)
        let t0 = monotonicNow()
        let none = try buffer.withUnsafeMutableBytes { try rx.receive(into: $0, timeoutMilliseconds: 200) }
        #expect(none == nil)
        #expect(monotonicNow() - t0 >= .milliseconds(150))
        #expect(rx.truncatedDatagrams == 2)
    }

    /// A flood of oversized datagrams: one call reads a bounded number of them, then returns
    /// so the event loop can serve timers and other sockets.
    @Test func aFloodOfOversizedDatagramsEndsOneCallAfterABoundedNumber() throws {
        let (tx, rx) = try pair()
        for _ in 0..<40 { try send(tx, 3000, fill: 0xAA, to: rx) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        #expect(try buffer.withUnsafeMutableBytes { try rx.tryReceive(into: $0) } == nil)
        #expect(rx.truncatedDatagrams > 0 && rx.truncatedDatagrams < 40)
        // Later calls take the rest (a level-triggered epoll wakes the reader again).
        for _ in 0..<40 { _ = try buffer.withUnsafeMutableBytes { try rx.tryReceive(into: $0) } }
        #expect(rx.truncatedDatagrams == 40)
    }

    /// `close()` frees the port at once, while the object may still be referenced.
    @Test func closeReleasesThePortWhileTheObjectLives() throws {
        let s = try UDPSocket(bind: TransportAddress(.v4Loopback, 0))
        let port = s.localAddress
        #expect(throws: SocketError.self) { try UDPSocket(bind: port) }
        s.close()
        #expect(s.descriptor == -1)
        let again = try UDPSocket(bind: port)
        #expect(again.localAddress == port)
        s.close()  // idempotent: must not close the descriptor number `again` may have reused
        var buffer = [UInt8](repeating: 0, count: 16)
        try send(again, 5, fill: 1, to: again)
        #expect(try buffer.withUnsafeMutableBytes { try again.receive(into: $0, timeoutMilliseconds: 1000) }?.count == 5)
    }
}
