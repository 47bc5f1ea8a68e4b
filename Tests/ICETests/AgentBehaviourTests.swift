import Common
import ICE
import ICEHarness
import STUN
import Testing

typealias TestAgent = Agent<SeededRandom>

func agent(_ seed: UInt64, _ role: Role, hosts: [String], configure: (inout AgentConfiguration) -> Void = { _ in }) throws -> TestAgent {
    var config = AgentConfiguration()
    config.role = role
    configure(&config)
    let a = TestAgent(configuration: config, random: SeededRandom(seed: seed))
    for h in hosts {
        let addr = TransportAddress(h)!
        try a.addHostCandidate(base: addr, component: 1)
        if config.components == 2 { try a.addHostCandidate(base: TransportAddress(addr.ip, addr.port + 1), component: 2) }
    }
    return a
}

func events(_ a: TestAgent) -> [Event] {
    var out: [Event] = []
    while let e = a.pollEvent() { out.append(e) }
    return out
}

@Suite struct AgentBehaviourTests {
    @Test func twoComponentsBothNominated() throws {
        let a = try agent(1, .controlling, hosts: ["192.0.2.1:5000"]) { $0.components = 2 }
        let b = try agent(2, .controlled, hosts: ["192.0.2.2:6000"]) { $0.components = 2 }
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed })
        for c: UInt8 in [1, 2] {
            let p = try #require(a.selectedPair(component: c))
            #expect(p.local.component == c && p.remote.component == c && p.nominated)
            #expect(try #require(b.selectedPair(component: c)).nominated)
        }
        #expect(a.selectedPair(component: 1)!.local.address.port == 5000)
        #expect(a.selectedPair(component: 2)!.local.address.port == 5001)
    }

    @Test func lateTrickledCandidatesConnect() throws {
        // The reachable candidates arrive 2 s after checks started on dead ones.
        let a = try agent(3, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(4, .controlled, hosts: ["192.0.2.2:6000"])
        let link = DirectLink(a, b)
        a.setRemoteCredentials(ufrag: b.localCredentials.ufragText, password: b.localCredentials.passwordText)
        b.setRemoteCredentials(ufrag: a.localCredentials.ufragText, password: a.localCredentials.passwordText)
        let dead = Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("77"),
                             address: TransportAddress("203.0.113.99:9")!)
        try a.addRemoteCandidate(dead, now: .zero)
        var deadForB = dead
        deadForB.address = TransportAddress("203.0.113.98:9")!
        try b.addRemoteCandidate(deadForB, now: .zero)
        #expect(!link.run(until: .zero + .seconds(2)) { a.state == .completed })
        #expect(a.state == .checking)
        try a.addRemoteCandidate(b.localCandidates[0], now: link.now)
        try b.addRemoteCandidate(a.localCandidates[0], now: link.now)
        a.setRemoteEndOfCandidates(now: link.now)
        #expect(link.run(until: .zero + .seconds(4)) { a.state == .completed && b.state == .completed })
        #expect(a.selectedPair()!.remote.address == b.localCandidates[0].address)
    }

    @Test func peerThatNeverAnswersFails() throws {
        let a = try agent(5, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(6, .controlled, hosts: ["192.0.2.2:6000"])
        b.close()  // drops everything
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        a.setRemoteEndOfCandidates(now: .zero)
        #expect(link.run(until: .zero + .seconds(60)) { a.state == .failed })
        // RFC 8489 schedule with RTO 500 ms: 39.5 s until the last check times out.
        #expect(link.now >= .zero + .seconds(39) && link.now <= .zero + .seconds(41))
        #expect(a.nextDeadline == nil || a.candidatePairs.allSatisfy { $0.state == .failed })
    }

    @Test func restartKeepsMediaOnOldPairUntilNewSelection() throws {
        let a = try agent(7, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(8, .controlled, hosts: ["192.0.2.2:6000"])
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed })
        let oldUfrag = a.localCredentials.ufragText
        _ = events(a)
        a.restart(now: link.now)
        b.restart(now: link.now)
        #expect(a.localCredentials.ufragText != oldUfrag)
        #expect(a.state == .checking)
        // Media keeps the previous pair during the restart.
        #expect(a.selectedPair()?.remote.address == TransportAddress("192.0.2.2:6000"))
        try link.exchangeCandidates()
        #expect(link.run(until: link.now + .seconds(5)) { a.state == .completed && b.state == .completed })
        #expect(events(a).contains { if case .selectedPair(_, _, _, true) = $0 { return true }; return false })
        // And consent runs with the new credentials.
        #expect(!link.run(until: link.now + .seconds(40)) { a.state != .completed || b.state != .completed })
    }

    @Test func fullAgentAgainstLitePeer() throws {
        let full = try agent(9, .controlled, hosts: ["192.0.2.1:5000"])
        let lite = try agent(10, .controlled, hosts: ["192.0.2.2:6000"]) { $0.lite = true }
        full.remoteIsLite = true
        #expect(full.role == .controlling)
        let link = DirectLink(full, lite)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(5)) { full.state == .completed && lite.state == .completed })
        #expect(lite.counters.checksSent == 0)
        #expect(lite.selectedPair()?.nominated == true)
        // The lite side never asks to be woken: no checks, no consent of its own.
        #expect(lite.nextDeadline == nil)
    }
}

/// Hand-written STUN from a fake RFC 5245 peer that nominates aggressively (USE-CANDIDATE
/// on every check), and from an attacker without the password.
@Suite struct ControlledSideTests {
    let local = TransportAddress("192.0.2.2:6000")!
    let peer = TransportAddress("198.51.100.7:7000")!
    let peerUfrag = "peer", peerPassword = "peerpasswordpeerpassword"

    func request(_ b: TestAgent, password: String, ufrag: String? = nil, useCandidate: Bool, id: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 512)
        let n = out.withUnsafeMutableBytes { raw -> Int in
            var m = try! MessageBuilder(into: raw, type: .bindingRequest, transactionID: TransactionID(high: 9, low: id))
            try! m.append(.username, text: (ufrag ?? b.localCredentials.ufragText) + ":" + peerUfrag)
            try! m.append(.priority, uint32: 1_862_270_975)
            try! m.append(.iceControlling, uint64: 1)
            if useCandidate { try! m.appendFlag(.useCandidate) }
            try! m.appendMessageIntegrity(.shortTerm(password: password))
            try! m.appendFingerprint()
            return m.count
        }
        return Array(out[0..<n])
    }

    func deliver(_ bytes: [UInt8], to b: TestAgent, now: Instant) -> PacketDisposition {
        bytes.withUnsafeBytes { b.handle(packet: $0, from: peer, to: local, now: now) }
    }

    /// Answers every check `b` sends to the fake peer, as the peer would.
    func answerChecks(of b: TestAgent) -> Int {
        var answered = 0
        while let t = b.pollTransmit() {
            guard let m = try? Message(parsing: t.bytes), m.messageClass == .request else { continue }
            var out = [UInt8](repeating: 0, count: 512)
            let n = out.withUnsafeMutableBytes { raw -> Int in
                var r = try! MessageBuilder(into: raw, type: .bindingSuccess, transactionID: m.transactionID)
                try! r.append(.xorMappedAddress, xorAddress: t.source)
                try! r.appendMessageIntegrity(.shortTerm(password: peerPassword))
                try! r.appendFingerprint()
                return r.count
            }
            _ = out.withUnsafeBytes { b.handle(packet: UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: t.destination, to: t.source, now: .zero) }
            answered += 1
        }
        return answered
    }

    @Test func aggressiveNominationFromRFC5245Peer() throws {
        let b = try agent(11, .controlled, hosts: ["192.0.2.2:6000"])
        b.setRemoteCredentials(ufrag: peerUfrag, password: peerPassword)
        // The first check already carries USE-CANDIDATE; the pair is not valid yet.
        #expect(deliver(request(b, password: b.localCredentials.passwordText, useCandidate: true, id: 1), to: b, now: .zero) == .stun)
        #expect(b.selectedPair() == nil)
        // b answered and sent a triggered check; once that succeeds the pair is nominated.
        b.handleTimeout(now: .zero + .milliseconds(50))
        #expect(answerChecks(of: b) >= 1)
        let selected = try #require(b.selectedPair())
        #expect(selected.nominated && selected.remote.address == peer && selected.remote.type == .peerReflexive)
        #expect(b.state == .completed)
    }

    @Test func unauthenticatedRequestsChangeNothing() throws {
        let b = try agent(12, .controlled, hosts: ["192.0.2.2:6000"])
        b.setRemoteCredentials(ufrag: peerUfrag, password: peerPassword)
        let bad = [request(b, password: "wrong-password-wrong-password", useCandidate: true, id: 2),
                   request(b, password: b.localCredentials.passwordText, ufrag: "nosuchufrag", useCandidate: true, id: 3)]
        for (i, r) in bad.enumerated() {
            #expect(deliver(r, to: b, now: .zero) == .dropped)
            #expect(b.counters.unauthenticated == i + 1)
        }
        #expect(b.remoteCandidates.count == 0 && b.candidatePairs.count == 0)
        #expect(b.state == .new)
        // Each got a 401 (RFC 8489 §9.1.3), without MESSAGE-INTEGRITY.
        var codes: [Int] = []
        while let t = b.pollTransmit() {
            let m = try Message(parsing: t.bytes)
            codes.append((try m.errorCode())?.code ?? 0)
            #expect(m.integrityOffset == nil)
        }
        #expect(codes == [401, 401])
        // Garbage and non-STUN are dropped or passed to media, never crash.
        #expect([UInt8](repeating: 0x80, count: 40).withUnsafeBytes { b.handle(packet: $0, from: peer, to: local, now: .zero) } == .notSTUN)
        #expect([UInt8](repeating: 0x00, count: 7).withUnsafeBytes { b.handle(packet: $0, from: peer, to: local, now: .zero) } == .dropped)
    }
}
