import Common
import ICE
import ICEHarness
import Testing

@Suite struct LateInterfaceTests {
    /// A host candidate added after the remote candidates (an interface that came up late) is
    /// paired and checked like the others.
    @Test func hostCandidateAddedLateIsPaired() throws {
        let a = TestAgent(configuration: AgentConfiguration(), random: SeededRandom(seed: 31))
        var cb = AgentConfiguration()
        cb.role = .controlled
        let b = TestAgent(configuration: cb, random: SeededRandom(seed: 32))
        try b.addHostCandidate(base: TransportAddress("192.0.2.2:6000")!)
        let link = DirectLink(a, b)
        try link.exchangeCandidates()  // a has no candidate yet: no pairs
        #expect(a.candidatePairs.isEmpty)
        try a.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!)
        #expect(a.candidatePairs.count == 1)
        try b.addRemoteCandidate(a.localCandidates[0], now: link.now)
        #expect(link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed })
    }
}
