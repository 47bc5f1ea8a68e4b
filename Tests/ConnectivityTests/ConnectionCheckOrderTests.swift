import Common
import Connectivity
import ICE
import Testing

/// A description brings its candidates one call each; the first check goes to the best pair
/// among all of them (RFC 8445 §6.1.4.2), not to the candidate listed first.
@Suite struct ConnectionCheckOrderTests {
    @Test func firstCheckGoesToTheBestPairOfTheWholeDescription() throws {
        var config = AgentConfiguration()
        config.role = .controlling
        let agent = Agent(configuration: config, random: SeededRandom(seed: 1))
        _ = try agent.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!, localPreference: 65_535)
        _ = try agent.addHostCandidate(base: TransportAddress("[2001:db8::1]:5000")!, localPreference: 65_535)
        let c = Connection(agent: agent, random: SeededRandom(seed: 2))
        c.start(now: .zero)
        while c.pollEvent() != nil {}
        while c.pollTransmit() != nil {}
        agent.setRemoteCredentials(ufrag: "peer", password: "peerpasswordpeerpassword")
        // Listed first, lower priority; then the better one.
        let v4 = Candidate(type: .host, component: 1, priority: 2_122_317_823, foundation: Foundation("1"),
                           address: TransportAddress("198.51.100.7:7000")!)
        let v6 = Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("2"),
                           address: TransportAddress("[2001:db8::7]:7000")!)
        try c.addRemoteCandidate(v4, now: .zero)
        try c.addRemoteCandidate(v6, now: .zero)
        #expect(c.pollTransmit() == nil, "no check before the owner's timer runs")
        #expect(try #require(c.nextDeadline) <= .zero)
        c.handleTimeout(now: .zero)
        let first = try #require(c.pollTransmit())
        #expect(first.destination == v6.address)
    }
}
