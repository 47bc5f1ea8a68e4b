import Common
import ICE
import NetworkSimulator
import Testing

/// Loss, latency, role conflict, restart, consent loss and trickle on the simulated network.
@Suite struct NATScenarioTests {
    @Test func twentyPercentLossEachWayStillConnects() {
        var lost = 0
        for seed: UInt64 in 1...10 {
            let s = Scenario(left: .portRestrictedCone, right: .restrictedCone, seed: seed)
            s.leftHost.link.loss = 0.2
            s.rightHost.link.loss = 0.2
            s.start()
            // Media can flow (a valid pair on both sides) within 30 s; the nomination itself may
            // need the RFC 8489 schedule's later retransmissions when its responses keep dropping.
            let usable = s.network.runUntil(timeout: .seconds(30)) {
                s.left.selected != nil && s.right.selected != nil
            }
            #expect(usable, "seed \(seed): \(s.left.agent.state.name)/\(s.right.agent.state.name)")
            #expect(s.connect(timeout: .seconds(90)), "seed \(seed): \(s.left.agent.state.name)/\(s.right.agent.state.name)")
            lost += s.network.counters.droppedLoss
        }
        #expect(lost >= 10, "the links must really have lost datagrams: \(lost)")
    }

    @Test func threeHundredMillisecondRTTConnectsInTwoRTTs() {
        let s = Scenario(left: .open, right: .open)
        s.leftHost.link = .latency(.milliseconds(75))
        s.rightHost.link = .latency(.milliseconds(75))
        s.start()
        #expect(s.connect())
        // Candidates reach each side after 50 ms of signaling; then a check and a nomination.
        let ms = s.network.now.nanoseconds / 1_000_000
        #expect(ms <= 50 + 2 * 300, "\(ms) ms")
    }

    @Test func bothControllingResolvesVia487() {
        let s = Scenario(left: .fullCone, right: .restrictedCone, leftRole: .controlling, rightRole: .controlling)
        s.start()
        #expect(s.connect())
        #expect(s.left.agent.role != s.right.agent.role)
        #expect(s.left.agent.counters.roleConflicts + s.right.agent.counters.roleConflicts > 0)
    }

    @Test func restartMidStreamKeepsTheSession() {
        let s = Scenario(left: .portRestrictedCone, right: .fullCone)
        s.start()
        #expect(s.connect())
        s.network.run(for: .seconds(10))
        let oldRemoteUfrag = s.right.agent.localCredentials.ufragText
        for e in [s.left, s.right] {
            e.connection.restart(now: s.network.now)
            e.send(.credentials(ufrag: e.agent.localCredentials.ufragText, password: e.agent.localCredentials.passwordText),
                   now: s.network.now)
            e.drainEvents(now: s.network.now)
        }
        #expect(s.right.agent.localCredentials.ufragText != oldRemoteUfrag)
        // Media has a path at every moment of the restart.
        var alwaysSelected = true
        let done = s.network.runUntil(timeout: .seconds(15)) {
            if s.left.selected == nil || s.right.selected == nil { alwaysSelected = false }
            return s.bothCompleted
        }
        #expect(done && alwaysSelected)
        #expect(!s.network.runUntil(timeout: .seconds(40)) { !s.bothCompleted })
    }

    /// A NAT that forgot its mappings (`conntrack -F`, a router reboot) gives the next
    /// consent check a new external port; the peer's response names it (XOR-MAPPED-ADDRESS)
    /// and the agent behind the NAT reports the rebinding at once, within one consent period,
    /// while the peer would only notice when its consent lapses 30 s later.
    @Test func flushedNATMappingIsReportedByTheNextConsentCheck() throws {
        let s = Scenario(left: .portRestrictedCone, right: .open)
        s.start()
        #expect(s.connect())
        let selected = try #require(s.left.agent.selectedPair())
        let seen = s.left.log.count
        try #require(s.leftHost.nat).flushMappings()
        let flushed = s.network.now
        func rebound() -> (was: TransportAddress, now: TransportAddress)? {
            for entry in s.left.log.dropFirst(seen) {
                if case .mappingChanged(_, let was, let now) = entry.event { return (was, now) }
            }
            return nil
        }
        #expect(s.network.runUntil(timeout: .seconds(7)) { rebound() != nil })
        let r = try #require(rebound())
        #expect(r.was == selected.local.address && r.now != r.was && r.now.ip == r.was.ip)
        #expect(s.network.now - flushed <= .seconds(7))
        // Reported once per new mapping, not on every consent response.
        s.network.run(for: .seconds(20))
        #expect(s.left.log.dropFirst(seen).filter { if case .mappingChanged = $0.event { return true }; return false }.count == 1)
    }

    @Test func consentLossFailsAtThirtySeconds() {
        let s = Scenario(left: .restrictedCone, right: .open)
        s.start()
        #expect(s.connect())
        s.network.run(for: .seconds(20))
        #expect(s.bothCompleted)
        let cut = s.network.now
        s.network.blocked = { _, _, _ in true }
        #expect(s.network.runUntil(timeout: .seconds(40)) { s.bothFailed })
        let after = s.network.now - cut
        // The last response came at most one consent interval (<= 6 s) before the cut.
        let afterMs = after.milliseconds
        #expect(afterMs >= 24_000 && afterMs <= 30_000, "\(afterMs) ms")
        let disconnected = s.left.firstTime { if case .stateChanged(.disconnected) = $0 { return true }; return false }
        #expect(disconnected != nil)
    }

    @Test func lateTrickledCandidatesConnect() {
        let s = Scenario(left: .portRestrictedCone, right: .fullCone)
        s.right.holdSignaling = true
        s.start()
        #expect(!s.network.runUntil(timeout: .seconds(3)) { s.bothCompleted })
        s.right.releaseSignaling(now: s.network.now)
        #expect(s.connect())
    }

    @Test func peerThatNeverAnswersFails() {
        let s = Scenario(left: .restrictedCone, right: .open)
        s.right.deaf = true
        s.start()
        #expect(s.network.runUntil(timeout: .seconds(60)) { s.left.agent.state == .failed })
        // End-of-candidates arrived at once; the last check gave up after the RFC 8489 schedule.
        #expect(s.network.now <= .zero + .seconds(45))
        #expect(s.left.agent.nextDeadline == nil)
    }

    /// Peer-reflexive discovery: L behind a NAT offers host + srflx, R is on the public side.
    /// R's check to L's private address goes nowhere; its check to L's server-reflexive
    /// address gets through the NAT before L even has R's candidates, so L learns R as
    /// peer-reflexive; USE-CANDIDATE from the controlling R nominates the pair.
    @Test func seed000Flow() throws {
        let s = Scenario(left: .fullCone, right: .open, leftRole: .controlled, rightRole: .controlling)
        s.right.signalingDelay = .milliseconds(50)
        s.left.signalingDelay = .milliseconds(50)
        s.right.holdSignaling = true  // R's answer is slow to reach L
        s.start()
        let learned = s.network.runUntil(timeout: .seconds(2)) {
            s.left.agent.remoteCandidates.contains { $0.type == .peerReflexive }
        }
        #expect(learned)
        let prflx = try #require(s.left.agent.remoteCandidates.first { $0.type == .peerReflexive })
        #expect(prflx.address == s.rightHost.transportAddress(port: 5000))
        #expect(s.left.agent.localCandidates.map(\.type).contains(.serverReflexive))
        // R's check towards L's private address had no route.
        #expect(s.network.counters.droppedNoRoute > 0)
        #expect(s.network.runUntil(timeout: .seconds(3)) { s.bothCompleted })
        let l = try #require(s.left.selected)
        #expect(l.nominated && l.remote.address == prflx.address)
        #expect(l.local.type == .serverReflexive || l.local.type == .host)
        s.right.releaseSignaling(now: s.network.now)
        s.network.run(for: .seconds(1))
        #expect(s.bothCompleted)
    }

    /// The pair table: two candidates on each side give four pairs; each is shown with
    /// its local and remote candidate, priority, state, readable (a check arrived), writable
    /// (our check succeeded) and nominated, and the base it is sent from.
    @Test func seed001PairTable() throws {
        let network = Network(seed: 7)
        let lh = network.addHost(name: "L", addresses: [IPAddress("192.0.2.1")!, IPAddress("192.0.2.11")!])
        let rh = network.addHost(name: "R", addresses: [IPAddress("198.51.100.2")!, IPAddress("198.51.100.12")!])
        func make(_ seed: UInt64, _ role: Role, _ h: Host, _ name: String) throws -> AgentEndpoint {
            var config = AgentConfiguration()
            config.role = role
            let a = TestAgent(configuration: config, random: SeededRandom(seed: seed))
            try a.addHostCandidate(base: h.transportAddress(port: 5000, interface: 0))
            try a.addHostCandidate(base: h.transportAddress(port: 5000, interface: 1))
            return AgentEndpoint(name, a)
        }
        let left = try make(1, .controlling, lh, "L"), right = try make(2, .controlled, rh, "R")
        left.peer = right
        right.peer = left
        network.attach(left, to: lh)
        network.attach(right, to: rh)
        left.start(now: .zero)
        right.start(now: .zero)
        #expect(network.runUntil(timeout: .seconds(5)) { left.agent.state == .completed && right.agent.state == .completed })
        network.run(for: .milliseconds(500))  // let the remaining checks finish
        let a = left.agent
        #expect(a.candidatePairs.count == 4)
        print(a.pairTable)
        #expect(a.candidatePairs.filter(\.nominated).count == 1)
        let nominated = try #require(a.candidatePairs.first { $0.nominated })
        #expect(nominated.valid && nominated.receivedCheck && nominated.state == .succeeded)
        #expect(nominated.priority == a.candidatePairs.map(\.priority).max())
        // RFC 8445 §8.1.2: after nomination the remaining Waiting/Frozen pairs are not checked.
        #expect(a.candidatePairs.allSatisfy { $0.nominated || !$0.nominated && $0.state != .inProgress })
        // Both sides compute the same pair priorities (RFC 8445 §6.1.2.3).
        let mine = Set(a.candidatePairs.map(\.priority)), theirs = Set(right.agent.candidatePairs.map(\.priority))
        #expect(mine == theirs)
    }
}

