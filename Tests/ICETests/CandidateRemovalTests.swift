import Common
import ICE
import ICEHarness
import Testing

/// A local candidate whose base is gone (a TURN allocation lost and replaced) leaves the agent:
/// its pairs go, media moves to what remains, and a daemon that re-allocates for months never
/// fills its candidate table.
@Suite struct CandidateRemovalTests {
    typealias A = Agent<SeededRandom>
    let host = TransportAddress("192.0.2.1:5000")!
    let peer = TransportAddress("192.0.2.2:6000")!
    let turnServer = TransportAddress("198.51.100.1:3478")!

    func agent(_ role: Role, seed: UInt64) -> A {
        var c = AgentConfiguration()
        c.role = role
        return A(configuration: c, random: SeededRandom(seed: seed))
    }

    /// Every pair names a live local candidate, and none is based on `address`.
    func consistent(_ a: A, without address: TransportAddress) -> Bool {
        !a.localCandidates.contains { $0.address == address || $0.base == address }
            && a.candidatePairs.allSatisfy { $0.local < a.localCandidates.count && $0.remote < a.remoteCandidates.count }
            && !a.candidatePairs.contains { a.localCandidates[$0.local].base == address }
    }

    @Test func removingTheSelectedPairsCandidateMovesMediaToTheRemainingOne() throws {
        let a = agent(.controlling, seed: 1), b = agent(.controlled, seed: 2)
        let relayed = TransportAddress("198.51.100.1:7000")!
        try a.addHostCandidate(base: host)
        try a.addRelayedCandidate(address: relayed, server: turnServer)
        try b.addHostCandidate(base: peer)
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(10)) { a.state == .completed && b.state == .completed })
        #expect(a.selectedPair()?.local.address == host)
        while a.pollEvent() != nil {}

        #expect(a.removeLocalCandidate(host, now: link.now))
        #expect(consistent(a, without: host))
        #expect(a.localCandidates.count == 1)
        #expect(a.selectedPair()?.local.address != host)
        // Nothing goes out from the removed address any more.
        while let t = a.pollTransmit() { #expect(t.source != host) }
        #expect(link.run(until: link.now + .seconds(10)) { a.state == .completed && a.selectedPair()?.local.address == relayed })
        #expect(a.selectedPair()?.nominated == true)
        #expect(!a.removeLocalCandidate(host, now: link.now))
    }

    /// Relay-only: the allocation is lost (its candidate withdrawn), a new one comes with a new
    /// relayed address, and both agents connect through it; the peer learns it as
    /// peer-reflexive (no trickle after end-of-candidates, RFC 8838).
    @Test func aReallocatedRelayReplacesTheOldCandidate() throws {
        let a = agent(.controlling, seed: 3), b = agent(.controlled, seed: 4)
        let first = TransportAddress("198.51.100.1:7000")!, second = TransportAddress("198.51.100.1:7002")!
        try a.addRelayedCandidate(address: first, server: turnServer)
        try b.addHostCandidate(base: peer)
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(10)) { a.state == .completed && b.state == .completed })

        #expect(a.removeLocalCandidate(first, now: link.now))
        #expect(a.candidatePairs.isEmpty && a.selectedPair() == nil)
        #expect(a.state == .checking)
        var sawChecking = false
        while let e = a.pollEvent() { if case .stateChanged(.checking) = e { sawChecking = true } }
        #expect(sawChecking)

        try a.addRelayedCandidate(address: second, server: turnServer)
        #expect(link.run(until: link.now + .seconds(10)) {
            a.state == .completed && a.selectedPair()?.local.address == second && b.selectedPair()?.remote.address == second
        }, "a \(a.state.name) b \(b.state.name)")
        #expect(consistent(a, without: first))
    }

    /// A doorbell whose relay is re-allocated every hour for months: the table never fills.
    @Test func repeatedReplacementsNeverFillTheCandidateTable() throws {
        let a = agent(.controlling, seed: 5)
        try a.addHostCandidate(base: host)
        a.setRemoteCredentials(ufrag: "abcd", password: "0123456789abcdef012345")
        try a.addRemoteCandidate(Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation(number: 1),
                                           address: peer), now: .zero)
        let capacity = AgentConfiguration().capacities.localCandidates
        var now = Instant.zero
        for i in 0..<(capacity * 3) {
            let relayed = TransportAddress(.v4(0xC633_6401), UInt16(20000 + i))
            try a.addRelayedCandidate(address: relayed, server: turnServer)
            now = now + .seconds(1)
            #expect(a.removeLocalCandidate(relayed, now: now))
            while a.pollEvent() != nil {}
            while a.pollTransmit() != nil {}
        }
        #expect(a.localCandidates.count == 1)
        #expect(a.candidatePairs.count == 1)
        #expect(a.counters.tableFull == 0)
    }
}
