import Common
import ICE
import STUN
import Testing

/// Two agents wired back to back with no network in between: the smallest end-to-end check
/// of the state machine (the simulator tests cover NATs, loss and latency).
@Suite struct LoopbackPairTests {
    typealias A = Agent<SeededRandom>

    final class Wire {
        let a: A, b: A
        var now = Instant.zero
        let latency = Interval.milliseconds(5)
        var inFlight: [(at: Instant, to: A, from: TransportAddress, dst: TransportAddress, bytes: [UInt8])] = []
        var sent = 0

        init(_ a: A, _ b: A) { self.a = a; self.b = b }

        func drain(_ x: A) {
            while let t = x.pollTransmit() {
                sent += 1
                let target = (x === a) ? b : a
                inFlight.append((now + latency, target, t.source, t.destination, Array(t.bytes)))
            }
        }

        /// Runs until `done` or `limit` of virtual time.
        func run(until limit: Interval, _ done: () -> Bool) -> Bool {
            let end = Instant.zero + limit
            while now < end {
                drain(a); drain(b)
                if done() { return true }
                let due = inFlight.filter { $0.at <= now }
                inFlight.removeAll { $0.at <= now }
                for d in due { d.bytes.withUnsafeBytes { _ = d.to.handle(packet: $0, from: d.from, to: d.dst, now: now) } }
                if !due.isEmpty { continue }
                for x in [a, b] where (x.nextDeadline.map { $0 <= now } ?? false) { x.handleTimeout(now: now) }
                drain(a); drain(b)
                if done() { return true }
                var next = end
                for t in [a.nextDeadline, b.nextDeadline] + inFlight.map({ Optional($0.at) }) {
                    if let t, t < next { next = t }
                }
                now = max(now + Interval(nanoseconds: 1), next)
            }
            return done()
        }
    }

    func makeAgent(seed: UInt64, role: Role, host: TransportAddress) throws -> A {
        var config = AgentConfiguration()
        config.role = role
        let agent = A(configuration: config, random: SeededRandom(seed: seed))
        try agent.addHostCandidate(base: host)
        return agent
    }

    func exchange(_ a: A, _ b: A, now: Instant) throws {
        a.setRemoteCredentials(ufrag: b.localCredentials.ufragText, password: b.localCredentials.passwordText)
        b.setRemoteCredentials(ufrag: a.localCredentials.ufragText, password: a.localCredentials.passwordText)
        for c in a.localCandidates.indices { try b.addRemoteCandidate(a.localCandidates[c], now: now) }
        for c in b.localCandidates.indices { try a.addRemoteCandidate(b.localCandidates[c], now: now) }
    }

    @Test func hostToHostCompletesInTwoRoundTrips() throws {
        let la = TransportAddress("192.0.2.1:5000")!, lb = TransportAddress("192.0.2.2:6000")!
        let a = try makeAgent(seed: 1, role: .controlling, host: la)
        let b = try makeAgent(seed: 2, role: .controlled, host: lb)
        try exchange(a, b, now: .zero)
        let wire = Wire(a, b)
        #expect(wire.run(until: .seconds(5)) { a.state == .completed && b.state == .completed })
        // Check (1 RTT) then nomination check (1 RTT): 20 ms at 5 ms one way.
        #expect(wire.now <= .zero + .milliseconds(21), "completed at \(wire.now.nanoseconds / 1_000_000) ms")
        let sa = try #require(a.selectedPair())
        let sb = try #require(b.selectedPair())
        #expect(sa.local.address == la && sa.remote.address == lb && sa.nominated)
        #expect(sb.local.address == lb && sb.remote.address == la && sb.nominated)
    }

    @Test func bothControllingResolvesBy487() throws {
        let a = try makeAgent(seed: 3, role: .controlling, host: TransportAddress("192.0.2.1:5000")!)
        let b = try makeAgent(seed: 4, role: .controlling, host: TransportAddress("192.0.2.2:6000")!)
        try exchange(a, b, now: .zero)
        let wire = Wire(a, b)
        #expect(wire.run(until: .seconds(5)) { a.state == .completed && b.state == .completed })
        #expect(a.role != b.role)
        // The larger tie-breaker stays controlling (RFC 8445 §7.3.1.1).
        #expect((a.tieBreaker > b.tieBreaker) == (a.role == .controlling))
    }

    @Test func wrongPasswordNeverConnects() throws {
        let a = try makeAgent(seed: 5, role: .controlling, host: TransportAddress("192.0.2.1:5000")!)
        let b = try makeAgent(seed: 6, role: .controlled, host: TransportAddress("192.0.2.2:6000")!)
        try exchange(a, b, now: .zero)
        a.setRemoteCredentials(ufrag: b.localCredentials.ufragText, password: "not-the-password-at-all")
        let wire = Wire(a, b)
        #expect(!wire.run(until: .seconds(3)) { a.state == .completed || b.state == .completed })
        // b rejects every check a signs with the wrong password (401) and a learns nothing;
        // b's own checks (with a's right password) may succeed, but nobody nominates.
        #expect(b.counters.unauthenticated > 0)
        #expect(!a.candidatePairs.contains { $0.valid })
        #expect(!b.candidatePairs.contains { $0.nominated })
    }

    @Test func consentKeepsCompletedAndLossFails() throws {
        let a = try makeAgent(seed: 7, role: .controlling, host: TransportAddress("192.0.2.1:5000")!)
        let b = try makeAgent(seed: 8, role: .controlled, host: TransportAddress("192.0.2.2:6000")!)
        try exchange(a, b, now: .zero)
        let wire = Wire(a, b)
        #expect(wire.run(until: .seconds(1)) { a.state == .completed && b.state == .completed })
        let sentBefore = wire.sent
        #expect(!wire.run(until: .seconds(60)) { a.state != .completed || b.state != .completed })
        // ~4-6 s apart, both ways, each a request and a response.
        let consentPackets = wire.sent - sentBefore
        #expect(consentPackets >= 4 * 8 && consentPackets <= 4 * 16, "\(consentPackets)")
        // Cut the wire: b stops answering. a must fail 30 s after the last response.
        let cutAt = wire.now
        let silent = try makeAgent(seed: 9, role: .controlled, host: TransportAddress("192.0.2.9:9")!)
        silent.close()
        let wire2 = Wire(a, silent)
        wire2.now = cutAt
        #expect(wire2.run(until: cutAt - .zero + .seconds(40)) { a.state == .failed })
        #expect(wire2.now - cutAt <= .seconds(31))
        #expect(wire2.now - cutAt >= .seconds(24))
    }
}
