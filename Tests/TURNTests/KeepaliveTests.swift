import Common
import STUN
import Testing
@testable import TURN

/// UDP keepalives of an idle allocation (RFC 4787 REQ-5 NAT timeouts; RFC 8445 §11's 15 s
/// Binding indications): without them an unused allocation loses its NAT binding between
/// refreshes and, with it, the allocation (437 at the next Refresh).
@Suite struct KeepaliveTests {
    func isKeepalive(_ r: Request) -> Bool {
        r.method == .binding && r.messageClass == .indication
    }

    @Test func idleAllocationSendsABindingIndicationEvery15Seconds() {
        // `allocated` sends its last request (the authenticated Allocate) at 0.01.
        let (c, _) = allocated()
        let last = at(0.01)
        #expect(c.nextDeadline == last + .seconds(15))
        c.handleTimeout(now: last + .milliseconds(14_999))
        #expect(drain(c).isEmpty)
        c.handleTimeout(now: last + .seconds(15))
        let k = drain(c)
        #expect(k.count == 1)
        #expect(isKeepalive(k[0]) && k[0].destination == serverAddress)
        // RFC 8445 §11 form: FINGERPRINT, nothing to authenticate, nothing to answer.
        #expect(k[0].fingerprintOK && !k[0].hasIntegrity && k[0].username == nil)
        #expect(k[0].bytes.count == 28)  // header + FINGERPRINT
        #expect(c.counters.keepalivesSent == 1)
        #expect(drainEvents(c).isEmpty)
        // The next one an interval later, with a fresh transaction id; no transaction waits.
        #expect(c.nextDeadline == last + .seconds(30))
        c.handleTimeout(now: last + .seconds(30))
        let k2 = drain(c)
        #expect(k2.count == 1 && isKeepalive(k2[0]) && k2[0].id != k[0].id)
        #expect(c.counters.keepalivesSent == 2 && c.counters.requestsSent == 2)
    }

    @Test func dataAndRequestsToTheServerRestartTheTimer() {
        let (c, s) = allocated()
        permit(c, s, peerA, now: at(5))  // CreatePermission sent at 5
        #expect(c.nextDeadline == at(20))
        #expect(trySend(c, [1, 2, 3], to: peerA, now: at(12)) == nil)  // a Send indication
        #expect(drain(c).count == 1)
        #expect(c.nextDeadline == at(27))
        c.handleTimeout(now: at(20))
        #expect(drain(c).isEmpty)
        // ChannelData counts the same.
        try! c.bindChannel(peer: peerA, now: at(26))
        c.receive(s.success(drain(c)[0]), now: at(26.01))
        #expect(trySend(c, [4], to: peerA, now: at(40)) == nil)
        #expect(drain(c)[0].isChannelData)
        #expect(c.nextDeadline == at(55))
        c.handleTimeout(now: at(55))
        #expect(drain(c).map(isKeepalive) == [true])
        // Received traffic does not count: only outbound packets refresh a NAT mapping
        // (RFC 4787 REQ-6 requires outbound refresh, not inbound).
        #expect(isData(c.receive(s.dataIndication(from: peerA, [9]), now: at(60))) != nil)
        #expect(c.nextDeadline == at(70))
        #expect(c.counters.keepalivesSent == 1)
    }

    @Test func aRefreshDueAtTheSameTimeIsTheKeepalive() {
        let (c, s) = allocated()
        permit(c, s, peerA, now: at(1))
        // The owner comes back late, when both the keepalive (16 s) and the permission refresh
        // (241 s) are due: the CreatePermission alone goes out.
        c.handleTimeout(now: at(241))
        let sent = drain(c)
        #expect(sent.count == 1 && sent[0].method == .createPermission)
        #expect(c.counters.keepalivesSent == 0)
        c.receive(s.success(sent[0]), now: at(241.01))
        #expect(c.nextDeadline == at(256))
    }

    @Test func allocationRefreshRestartsTheTimer() {
        let (c, s) = allocated(lifetime: 60)  // last Allocate at 0.01; refresh at 0.02 + 30 s
        var sent: [(at: Instant, method: Method)] = []
        while let d = c.nextDeadline, d <= at(50) {
            c.handleTimeout(now: d)
            for r in drain(c) {
                sent.append((d, r.method))
                if r.method == .refresh { c.receive(s.success(r, lifetime: 60), now: d) }
            }
        }
        // Keepalives 15 and 30 s after the Allocate, the Refresh, then a keepalive 15 s after it.
        #expect(sent.map(\.method) == [.binding, .binding, .refresh, .binding])
        #expect(sent.map(\.at) == [at(0.01) + .seconds(15), at(0.01) + .seconds(30),
                                   at(0.02) + .seconds(30), at(0.02) + .seconds(45)])
    }

    @Test(arguments: [TURNTransport.tcp, .tls])
    func noKeepaliveOverStreams(transport: TURNTransport) {
        // The allocation lives as long as the connection (RFC 8656 §3.1); NATs keep an
        // established TCP connection for hours (RFC 5382 REQ-5).
        let (c, _) = allocated { $0.transport = transport }
        #expect(c.keepaliveAt == nil)
        #expect(c.nextDeadline == at(0.02) + .seconds(540))  // the refresh only
        c.handleTimeout(now: at(100))
        #expect(drain(c).isEmpty)
        #expect(c.counters.keepalivesSent == 0)
    }

    @Test func disabledByConfiguration() {
        let (c, _) = allocated { $0.keepaliveInterval = nil }
        #expect(c.nextDeadline == at(0.02) + .seconds(540))
        c.handleTimeout(now: at(100))
        #expect(drain(c).isEmpty)
    }

    @Test func noKeepaliveBeforeTheAllocationExists() {
        let c = makeClient()
        try! c.start(now: at(0))
        _ = drain(c)
        // The Allocate goes unanswered: only its retransmissions, never a Binding indication.
        var sent: [Request] = []
        while let d = c.nextDeadline {
            c.handleTimeout(now: d)
            sent += drain(c)
        }
        #expect(!sent.isEmpty && sent.allSatisfy { $0.method == .allocate })
    }

    @Test func stopsAfterCloseAndDeallocation() {
        let (c, s) = allocated()
        c.handleTimeout(now: at(0.01) + .seconds(15))
        #expect(drain(c).map(isKeepalive) == [true])
        c.close(now: at(20))
        let r = drain(c)
        #expect(r.count == 1 && r[0].method == .refresh && r[0].lifetime == 0)
        // While closing (no answer yet), only the Refresh's retransmissions (RFC 8489 §6.2.1).
        var sent: [Request] = []
        for t in 21...50 {
            c.handleTimeout(now: at(Double(t)))
            sent += drain(c)
        }
        #expect(sent.count >= 4 && sent.allSatisfy { $0.method == .refresh && $0.id == r[0].id })
        c.receive(s.success(r[0], lifetime: 0), now: at(50.5))
        #expect(drainEvents(c).contains { if case .deallocated = $0 { true } else { false } })
        #expect(c.state == .closed)
        #expect(c.nextDeadline == nil)
        c.handleTimeout(now: at(200))
        #expect(drain(c).isEmpty)
        #expect(c.counters.keepalivesSent == 1)
    }

    @Test func stopsWhenTheAllocationFails() {
        let (c, s) = allocated(lifetime: 60)
        c.handleTimeout(now: at(0.02) + .seconds(30))  // the Refresh (a keepalive was due too: not sent)
        let r = drain(c)
        #expect(r.count == 1 && r[0].method == .refresh)
        c.receive(s.error(r[0], 437), now: at(31))
        #expect(c.state == .failed)
        #expect(c.nextDeadline == nil)
        c.handleTimeout(now: at(100))
        #expect(drain(c).isEmpty)
    }

    @Test func aFullRingDropsTheKeepaliveAndCountsIt() {
        let (c, s) = allocated { $0.capacities.transmitQueue = 1 }
        permit(c, s, peerA, now: at(1))
        #expect(trySend(c, [1], to: peerA, now: at(2)) == nil)  // not polled: the ring is full
        c.handleTimeout(now: at(17))
        #expect(c.counters.transmitDropped == 1 && c.counters.keepalivesSent == 0)
        // Not retried at every call: an interval later (the queued datagram goes first).
        #expect(c.nextDeadline == at(32))
        #expect(drain(c).count == 1)
        c.handleTimeout(now: at(32))
        #expect(drain(c).map(isKeepalive) == [true])
    }
}
