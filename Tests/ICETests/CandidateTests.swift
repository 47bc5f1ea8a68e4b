import Common
import ICE
import Testing

@Suite struct CandidateTests {
    @Test func candidatePriorityFormula() {
        // RFC 8445 §5.1.2.1 with the recommended type preferences.
        #expect(Candidate.priority(type: .host, localPreference: 65535, component: 1) == 2_130_706_431)
        #expect(Candidate.priority(type: .host, localPreference: 65535, component: 2) == 2_130_706_430)
        #expect(Candidate.priority(type: .serverReflexive, localPreference: 65535, component: 1) == 1_694_498_815)
        #expect(Candidate.priority(type: .peerReflexive, localPreference: 65535, component: 1) == 1_862_270_975)
        #expect(Candidate.priority(type: .relayed, localPreference: 65535, component: 1) == 16_777_215)
    }

    @Test func pairPriorityFormula() {
        // RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0).
        let g: UInt32 = 2_130_706_431, d: UInt32 = 1_694_498_815
        #expect(CandidatePair.priority(controlling: g, controlled: d) == (UInt64(d) << 32) + 2 * UInt64(g) + 1)
        #expect(CandidatePair.priority(controlling: d, controlled: g) == (UInt64(d) << 32) + 2 * UInt64(g))
        // Both sides compute the same number for the same pair.
        #expect(CandidatePair.priority(controlling: 5, controlled: 9) == CandidatePair.priority(controlling: 5, controlled: 9))
    }

    @Test func foundations() {
        #expect(Foundation(number: 1).description == "1")
        #expect(Foundation(number: 1234567).description == "1234567")
        #expect(Foundation("abc") == Foundation("abc"))
        #expect(Foundation("abc") != Foundation("abd"))
        #expect(Foundation(String(repeating: "x", count: 40)).description.count == 32)
    }

    @Test func credentialsHaveEnoughRandomness() {
        var r = SeededRandom(seed: 9)
        let a = Credentials.random(&r), b = Credentials.random(&r)
        // RFC 8445 §5.3: >= 24 bits of ufrag and >= 128 bits of password randomness; ice-chars only.
        #expect(a.ufrag.count * 6 >= 24 && a.password.count * 6 >= 128)
        #expect(a.ufrag != b.ufrag && a.password != b.password)
        let iceChars = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8))
        #expect((a.ufrag + a.password).allSatisfy { iceChars.contains($0) })
    }

    @Test func hostCandidatesPreferIPv6AndKeepPerIPPreference() throws {
        var config = AgentConfiguration()
        config.components = 2
        let agent = Agent(configuration: config, random: SeededRandom(seed: 1))
        let v4a = try agent.addHostCandidate(base: TransportAddress("192.168.1.10:5000")!)
        let v4b = try agent.addHostCandidate(base: TransportAddress("10.0.0.10:5000")!)
        let v6 = try agent.addHostCandidate(base: TransportAddress("[2001:db8::10]:5000")!)
        let v4aRtcp = try agent.addHostCandidate(base: TransportAddress("192.168.1.10:5001")!, component: 2)
        #expect(v6.priority > v4a.priority && v4a.priority > v4b.priority)
        #expect(v4aRtcp.localPreference == v4a.localPreference)
        #expect(v4aRtcp.priority == v4a.priority - 1)
        // Same type and base IP: same foundation (RFC 8445 §5.1.1.3); different IP: different.
        #expect(v4aRtcp.foundation == v4a.foundation)
        #expect(v4b.foundation != v4a.foundation)
        #expect(throws: ICEError.invalidComponent) { try agent.addHostCandidate(base: TransportAddress("192.0.2.1:1")!, component: 3) }
    }

    @Test func relayedFoundationsDifferPerServerTransport() throws {
        // RFC 8445 §5.1.1.3: the transport used to reach the TURN server is part of the
        // foundation. One server, reached over UDP, TCP and TLS, relays from one IP.
        let agent = Agent(configuration: AgentConfiguration(), random: SeededRandom(seed: 1))
        let server = TransportAddress("192.0.2.50:3478")!
        let udp = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50000")!, server: server)
        let tcp = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50001")!, server: server,
                                                serverTransport: .tcp)
        let tls = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50002")!,
                                                server: TransportAddress("192.0.2.50:5349")!, serverTransport: .tls)
        #expect(udp.foundation != tcp.foundation && udp.foundation != tls.foundation && tcp.foundation != tls.foundation)
        // A second UDP allocation on the same server and relay IP (another port) shares the UDP
        // foundation, whether the transport is given or left to its default.
        let udp2 = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50003")!, server: server,
                                                 serverTransport: .udp)
        let udp3 = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50004")!, server: server,
                                                 mappedAddress: TransportAddress("203.0.113.5:40000")!)
        #expect(udp2.foundation == udp.foundation && udp3.foundation == udp.foundation)
        // The same again over TCP shares the TCP one; another server over UDP does not share.
        let tcp2 = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50005")!, server: server,
                                                 serverTransport: .tcp)
        #expect(tcp2.foundation == tcp.foundation)
        let other = try agent.addRelayedCandidate(address: TransportAddress("198.51.100.7:50006")!,
                                                  server: TransportAddress("192.0.2.51:3478")!)
        #expect(other.foundation != udp.foundation)
        // Host candidates are unaffected: same base IP, same foundation.
        let h1 = try agent.addHostCandidate(base: TransportAddress("10.0.0.2:5000")!)
        let h2 = try agent.addHostCandidate(base: TransportAddress("10.0.0.2:5002")!)
        #expect(h1.foundation == h2.foundation && h1.foundation != udp.foundation)
    }

    @Test func fullTablesAreTypedErrorsAndEvents() throws {
        var config = AgentConfiguration()
        config.capacities.localCandidates = 2
        config.capacities.remoteCandidates = 2
        let agent = Agent(configuration: config, random: SeededRandom(seed: 1))
        try agent.addHostCandidate(base: TransportAddress("192.0.2.1:1")!)
        try agent.addHostCandidate(base: TransportAddress("192.0.2.2:1")!)
        #expect(throws: ICEError.tableFull(.localCandidates)) { try agent.addHostCandidate(base: TransportAddress("192.0.2.3:1")!) }
        agent.setRemoteCredentials(ufrag: "abcd", password: "0123456789abcdefghijkl")
        func remote(_ text: String) -> Candidate {
            Candidate(type: .host, component: 1, priority: 100, foundation: Foundation("9"), address: TransportAddress(text)!)
        }
        try agent.addRemoteCandidate(remote("198.51.100.1:1"), now: .zero)
        try agent.addRemoteCandidate(remote("198.51.100.2:1"), now: .zero)
        #expect(throws: ICEError.tableFull(.remoteCandidates)) { try agent.addRemoteCandidate(remote("198.51.100.3:1"), now: .zero) }
        var sawEvent = false
        while let e = agent.pollEvent() { if case .tableFull(.remoteCandidates) = e { sawEvent = true } }
        #expect(sawEvent)
        #expect(agent.counters.tableFull == 2)
        #expect(agent.candidatePairs.count == 4)
    }
}
