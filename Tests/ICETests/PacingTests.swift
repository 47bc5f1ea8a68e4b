import Common
import ICE
import Testing

/// RFC 8445 §5.1.1.2 and §6.1.4.2: gathering requests and connectivity checks are each paced
/// by Ta, on their own pacers, so the first check is not held a Ta behind the request to a
/// STUN server the agent sent when it started.
@Suite struct PacingTests {
    let stunA = TransportAddress("203.0.113.10:3478")!
    let stunB = TransportAddress("203.0.113.11:3478")!

    /// Every datagram the agent wants sent now, by destination.
    func destinations(_ a: TestAgent) -> [TransportAddress] {
        var out: [TransportAddress] = []
        while let t = a.pollTransmit() { out.append(t.destination) }
        return out
    }

    func remote(_ port: UInt16, priority: UInt32) -> Candidate {
        Candidate(type: .host, component: 1, priority: priority, foundation: Foundation("r\(port)"),
                  address: TransportAddress("198.51.100.7:\(port)")!)
    }

    func connectingAgent(servers: [TransportAddress]) throws -> TestAgent {
        let a = try agent(41, .controlling, hosts: ["192.0.2.1:5000"]) { $0.stunServers = servers }
        a.startGathering(now: .zero)
        return a
    }

    @Test func firstCheckGoesOutAtOnceAfterAGatheringRequest() throws {
        let a = try connectingAgent(servers: [stunA])
        #expect(destinations(a) == [stunA])
        // The peer's description arrives 1 ms later, while the STUN request is unanswered.
        let now = Instant.zero + .milliseconds(1)
        a.setRemoteCredentials(ufrag: "peer", password: "peerpasswordpeerpassword")
        try a.addRemoteCandidate(remote(7000, priority: 2_130_706_431), now: now)
        #expect(try #require(a.nextDeadline) <= now)
        a.handleTimeout(now: now)
        #expect(destinations(a) == [TransportAddress("198.51.100.7:7000")!])
    }

    @Test func checksArePacedByTaAmongThemselves() throws {
        let a = try connectingAgent(servers: [])
        a.setRemoteCredentials(ufrag: "peer", password: "peerpasswordpeerpassword")
        try a.addRemoteCandidate(remote(7000, priority: 2_130_706_431), now: .zero)
        try a.addRemoteCandidate(remote(7001, priority: 2_130_706_000), now: .zero)
        a.handleTimeout(now: .zero)
        #expect(destinations(a) == [TransportAddress("198.51.100.7:7000")!])
        // The second check waits for the next Ta tick, not for anything else.
        #expect(a.nextDeadline == .zero + Timing.ta)
        a.handleTimeout(now: .zero + .milliseconds(49))
        #expect(destinations(a).isEmpty)
        a.handleTimeout(now: .zero + Timing.ta)
        #expect(destinations(a) == [TransportAddress("198.51.100.7:7001")!])
    }

    @Test func gatheringRequestsArePacedByTaAmongThemselves() throws {
        let a = try connectingAgent(servers: [stunA, stunB])
        #expect(destinations(a) == [stunA])
        #expect(a.nextDeadline == .zero + Timing.ta)
        a.handleTimeout(now: .zero + .milliseconds(49))
        #expect(destinations(a).isEmpty)
        a.handleTimeout(now: .zero + Timing.ta)
        #expect(destinations(a) == [stunB])
    }

    /// What an agent wants sent now, copied out of its transmit ring.
    func transmits(_ a: TestAgent) -> [(from: TransportAddress, to: TransportAddress, bytes: [UInt8])] {
        var out: [(from: TransportAddress, to: TransportAddress, bytes: [UInt8])] = []
        while let t = a.pollTransmit() { out.append((t.source, t.destination, Array(t.bytes))) }
        return out
    }

    func deliver(_ d: (from: TransportAddress, to: TransportAddress, bytes: [UInt8]), to a: TestAgent, now: Instant) {
        _ = d.bytes.withUnsafeBytes { a.handle(packet: $0, from: d.from, to: d.to, now: now) }
    }

    /// A first check lost on the way (the peer's NAT or TURN permission not open yet) is sent
    /// again the moment the peer's own check shows the path open, not a Ta or an RTO later.
    @Test func peersCheckOnAnInProgressPairResendsOursAtOnce() throws {
        let a = try agent(43, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(44, .controlled, hosts: ["192.0.2.2:6000"])
        a.setRemoteCredentials(ufrag: b.localCredentials.ufragText, password: b.localCredentials.passwordText)
        b.setRemoteCredentials(ufrag: a.localCredentials.ufragText, password: a.localCredentials.passwordText)
        try a.addRemoteCandidate(b.localCandidates[0], now: .zero)
        try b.addRemoteCandidate(a.localCandidates[0], now: .zero)
        a.handleTimeout(now: .zero)
        let lost = transmits(a)
        #expect(lost.count == 1)
        let now = Instant.zero + .milliseconds(2)
        b.handleTimeout(now: now)
        let fromB = transmits(b)
        #expect(fromB.count == 1)
        deliver(fromB[0], to: a, now: now)
        let fromA = transmits(a)
        // The response to b, and a's request again: the same transaction (RFC 8489 §6.2.1).
        let resent = fromA.filter { Array($0.bytes[8..<20]) == Array(lost[0].bytes[8..<20]) }
        #expect(fromA.count == 2 && resent.count == 1)
        #expect(a.counters.checkRetransmits == 1)
        // A replayed request from b does not make a send its request a third time.
        deliver(fromB[0], to: a, now: now)
        #expect(transmits(a).count == 1)
        #expect(a.counters.checkRetransmits == 1)
        // The resent copy gets through: a has a valid pair at once.
        for d in resent { deliver(d, to: b, now: now) }
        for d in transmits(b) { deliver(d, to: a, now: now) }
        #expect(a.state == .connected || a.state == .completed)
    }
}
