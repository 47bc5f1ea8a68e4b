import Common
import ICE
import Testing

/// After `handleTimeout(now:)`, `nextDeadline` is nil or later than `now`: otherwise an event
/// loop driving the agent wakes at once, again and again, at 100% CPU.
@Suite struct DeadlineInvariantTests {
    /// Drives `a` from timeout to timeout until `end`, dropping what it sends (every peer is
    /// black-holed). Returns the first instant at which the invariant broke, or nil.
    func firstViolation(_ a: TestAgent, until end: Instant) -> Instant? {
        var now = Instant.zero
        for _ in 0..<100_000 {
            guard let d = a.nextDeadline, d <= end else { return nil }
            now = max(now, d)
            a.handleTimeout(now: now)
            while a.pollTransmit() != nil {}
            if let after = a.nextDeadline, after <= now { return now }
        }
        return nil
    }

    func blackHole(_ n: Int, foundation: (Int) -> String, component: (Int) -> UInt8 = { _ in 1 }) -> [Candidate] {
        (0..<n).map { i in
            Candidate(type: .host, component: component(i), priority: 2_000_000_000 - UInt32(i), foundation: Foundation(foundation(i)),
                      address: TransportAddress(.v4(0xCB00_7100 + UInt32(i)), 9))  // 203.0.113.x: never answers
        }
    }

    @Test func fullTransactionTableDoesNotSpin() throws {
        let a = try agent(41, .controlling, hosts: ["192.0.2.1:5000"]) { $0.capacities.transactions = 4 }
        a.setRemoteCredentials(ufrag: "peer", password: "peer-password-0123456789")
        for c in blackHole(16, foundation: { "\($0)" }) { try a.addRemoteCandidate(c, now: .zero) }
        #expect(firstViolation(a, until: .zero + .seconds(150)) == nil)
        // The table's four slots were reused once their checks timed out (RTO 800 ms with 16
        // active pairs: 63 s each): more than four checks went out in all.
        #expect(a.counters.checksSent > 4)
    }

    @Test func frozenPairsOfABusyFoundationDoNotSpin() throws {
        // Two components, one remote foundation: component 2's pair stays Frozen while
        // component 1's identical-foundation pair is In-Progress (RFC 8445 §6.1.4.2).
        let a = try agent(42, .controlling, hosts: ["192.0.2.1:5000"]) { $0.components = 2 }
        a.setRemoteCredentials(ufrag: "peer", password: "peer-password-0123456789")
        for c in blackHole(2, foundation: { _ in "1" }, component: { UInt8($0 + 1) }) { try a.addRemoteCandidate(c, now: .zero) }
        #expect(firstViolation(a, until: .zero + .seconds(90)) == nil)
        // Component 1 could not connect, so ICE failed (RFC 8445 §8.1.2) while component 2's
        // pair was still Frozen behind it.
        #expect(a.state == .failed)
        #expect(a.candidatePairs.contains { $0.component == 2 && $0.state == .frozen })
    }

    @Test func waitingForRemoteCandidatesWhileGatheringDoesNotSpin() throws {
        // No end-of-candidates from the peer, and our own STUN server never answers: the
        // remote-candidate wait (10 s) ends while gathering (39.5 s) still holds the verdict.
        let a = try agent(43, .controlling, hosts: ["192.0.2.1:5000"]) {
            $0.stunServers = [TransportAddress("198.51.100.1:3478")!]
        }
        a.startGathering(now: .zero)
        a.setRemoteCredentials(ufrag: "peer", password: "peer-password-0123456789")
        for c in blackHole(1, foundation: { "\($0)" }) { try a.addRemoteCandidate(c, now: .zero) }
        #expect(firstViolation(a, until: .zero + .seconds(120)) == nil)
        // When gathering ended, the verdict that it held back was given.
        #expect(a.state == .failed)
    }

    @Test func externalGatheringEndingMakesTheVerdictDue() throws {
        let a = try agent(44, .controlling, hosts: ["192.0.2.1:5000"])
        a.externalGatheringPending = true
        a.setRemoteCredentials(ufrag: "peer", password: "peer-password-0123456789")
        for c in blackHole(1, foundation: { "\($0)" }) { try a.addRemoteCandidate(c, now: .zero) }
        a.setRemoteEndOfCandidates(now: .zero)
        #expect(firstViolation(a, until: .zero + .seconds(60)) == nil)
        #expect(a.state == .checking)  // every pair failed, but a relay may still come
        a.externalGatheringPending = false
        let due = try #require(a.nextDeadline)
        a.handleTimeout(now: max(due, .zero + .seconds(60)))
        #expect(a.state == .failed)
    }
}
