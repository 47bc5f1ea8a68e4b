import AllocationCounter
import Common
import ICE
import ICEHarness
import NetworkSimulator
import STUN

typealias BenchAgent = Agent<SeededRandom>

func makeAgentPair(latency: Interval) -> DirectLink<SeededRandom> {
    var ca = AgentConfiguration()
    ca.role = .controlling
    var cb = AgentConfiguration()
    cb.role = .controlled
    let a = BenchAgent(configuration: ca, random: SeededRandom(seed: 1))
    let b = BenchAgent(configuration: cb, random: SeededRandom(seed: 2))
    _ = try! a.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!)
    _ = try! b.addHostCandidate(base: TransportAddress("192.0.2.2:6000")!)
    return DirectLink(a, b, latency: latency)
}

/// Connect two agents and run `consentCycles` consent periods, counting heap allocations made
/// inside agent calls after start-up. Returns the count.
/// Heap allocations inside agent calls during the first connect in this process: one-time
/// first-use costs (a second connect makes none), counted as start-up.
func firstConnectAllocations() -> Int {
    let w = makeAgentPair(latency: .milliseconds(10))
    try! w.exchangeCandidates()
    w.allocationCounter = { allocationCount }
    _ = w.run(until: .zero + .seconds(10)) { w.a.state == .completed && w.b.state == .completed }
    return w.agentAllocations
}

/// What `agentAllocations` saw: allocations inside agent calls, and whether the session held.
struct AgentAllocationRun {
    var connect = 0
    var consent = 0
    var completedAt = Instant.zero
    var datagrams = 0
    /// Both agents reached completed.
    var connected = false
    /// The states when either left completed during the consent cycles (nil: both held).
    var droppedStates: String? = nil
}

/// Counted after `firstConnectAllocations()` has run once in the process. `closePeerAfter`
/// (consent periods) closes the controlled agent then, a fault for testing the check itself.
func agentAllocations(consentCycles: Int, closePeerAfter: Int? = nil) -> AgentAllocationRun {
    var r = AgentAllocationRun()
    let link = makeAgentPair(latency: .milliseconds(10))
    try! link.exchangeCandidates()
    link.allocationCounter = { allocationCount }
    r.connected = link.run(until: .zero + .seconds(10)) { link.a.state == .completed && link.b.state == .completed }
    r.connect = link.agentAllocations
    r.completedAt = link.now
    guard r.connected else {
        r.datagrams = link.delivered
        return r
    }
    // Consent checks run every 4-6 s: 1,000 cycles is about 5,000 s of virtual time.
    let end = link.now + Timing.consentBase * Int64(consentCycles)
    func dropped() -> Bool { link.a.state != .completed || link.b.state != .completed }
    var droppedEarly = false
    if let n = closePeerAfter {
        droppedEarly = link.run(until: link.now + Timing.consentBase * Int64(n)) { dropped() }
        if !droppedEarly { link.b.close() }
    }
    if droppedEarly || link.run(until: end, { dropped() }) {
        r.droppedStates = "\(link.a.state.name) / \(link.b.state.name)"
    }
    r.consent = link.agentAllocations - r.connect
    r.datagrams = link.delivered
    return r
}

/// Two agents connecting on the network simulator (`Scenario`: each host at `left`/`right`,
/// alone or behind a new NAT of that type, a STUN server on the public internet, trickled
/// candidates reaching the peer 50 ms after they are gathered), on the virtual clock.
///
/// Prints the time from start (both agents start gathering at 0) until both are completed, and
/// the same counted from when the candidates had been exchanged, in path RTTs. "Candidates
/// exchanged" is the later of the two instants at which each side's agent was handed the last
/// trickled remote candidate it received before both completed; it counts every candidate
/// trickled, not only the ones the selected pair uses. The path RTT is that of a datagram from
/// one host to the other and back: each host's access link and each NAT's link, both ways.
/// `expect` is checked against the selected pair (see `AgentEndpoint.selectedTypes`): a
/// "local/remote" pair of candidate types, or a type one side must have as its remote.
func simulatedConnect(_ name: String, left: NATPlacement, right: NATPlacement, expect: String) {
    let s = Scenario(left: left, right: right, seed: 1)
    let access = LinkConditions.latency(.milliseconds(10))
    s.leftHost.link = access
    s.rightHost.link = access
    func oneWay(_ host: Host) -> Interval { host.link.latency + (host.nat?.link.latency ?? .milliseconds(0)) }
    let rtt = (oneWay(s.leftHost) + oneWay(s.rightHost)) * 2
    s.start()
    guard s.connect(timeout: .seconds(30)),
          let l = s.left.lastRemoteCandidateAt, let r = s.right.lastRemoteCandidateAt
    else {
        print("error: \(name): agents did not connect: \(s.left.agent.state.name) / \(s.right.agent.state.name)")
        return
    }
    let types = [s.left.selectedTypes, s.right.selectedTypes]
    if !types.contains(expect) && !types.contains(where: { $0.hasSuffix("/" + expect) }) {
        print("error: \(name): selected pairs \(types[0]) (left), \(types[1]) (right), expected \(expect)")
    }
    let completed = s.network.now
    let exchanged = max(l, r)
    let ms = Double(completed.nanoseconds) / 1e6
    let rtts = Double((completed - exchanged).nanoseconds) / Double(rtt.nanoseconds)
    print("connect-\(name): \(format(ms)) ms virtual from start, \(format(rtts)) RTTs after candidates exchanged")
}

func runICEBenchmarks(iterations: Int) {
    // Connect time on the virtual clock, in RTTs (both sides have each other's candidates at 0).
    for oneWay: Int64 in [10, 150] {
        let link = makeAgentPair(latency: .milliseconds(oneWay))
        try! link.exchangeCandidates()
        _ = link.run(until: .zero + .seconds(30)) { link.a.state == .completed && link.b.state == .completed }
        let rtt = Double(2 * oneWay)
        let ms = Double(link.now.nanoseconds) / 1e6
        print("connect-host-host-rtt\(2 * oneWay)ms: \(format(ms)) ms virtual, \(format(ms / rtt)) RTTs")
    }
    // The same on the network simulator, through NATs, with a STUN server and trickle signaling.
    simulatedConnect("sim-host-host", left: .open, right: .open, expect: "host/host")
    simulatedConnect("sim-srflx-srflx", left: .portRestrictedCone, right: .portRestrictedCone, expect: "srflx/srflx")
    simulatedConnect("sim-prflx", left: .symmetric, right: .open, expect: "prflx")

    let oneTime = firstConnectAllocations()
    print("agent-allocations-first-connect-in-process: \(oneTime) (one-time: a second connect makes none)")
    let allocs = agentAllocations(consentCycles: 1000)
    if !allocs.connected { print("error: the agents did not connect") }
    if let d = allocs.droppedStates { print("error: the session dropped during consent cycles: \(d)") }
    print("agent-allocations-connect: \(allocs.connect)")
    print("agent-allocations-1000-consent-cycles: \(allocs.consent)")

    // Memory per agent with default capacities: bytes allocated by creating one.
    let before = allocatedBytes
    let agent = BenchAgent(configuration: AgentConfiguration(), random: SeededRandom(seed: 3))
    _ = try! agent.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!)
    print("agent-memory-default-capacities: \(allocatedBytes - before) bytes")

    measureCheckHandling(iterations: iterations)
}

/// CPU per handled check: an authenticated Binding request in, a response out.
func measureCheckHandling(iterations: Int) {
    let link = makeAgentPair(latency: .milliseconds(10))
    try! link.exchangeCandidates()
    _ = link.run(until: .zero + .seconds(5)) { link.a.state == .completed && link.b.state == .completed }
    let b = link.b
    var request = [UInt8](repeating: 0, count: 256)
    let key = IntegrityKey.shortTerm(password: b.localCredentials.passwordText)
    let username = b.localCredentials.ufragText + ":" + link.a.localCredentials.ufragText
    let length = request.withUnsafeMutableBytes { raw -> Int in
        var m = try! MessageBuilder(into: raw, type: .bindingRequest, transactionID: TransactionID(high: 1, low: 2))
        try! m.append(.username, text: username)
        try! m.append(.priority, uint32: 0x6E00_01FF)
        try! m.append(.iceControlling, uint64: link.a.tieBreaker)
        try! m.appendMessageIntegrity(key)
        try! m.appendFingerprint()
        return m.count
    }
    let from = TransportAddress("192.0.2.1:5000")!, to = TransportAddress("192.0.2.2:6000")!
    request.withUnsafeBytes { raw in
        let msg = UnsafeRawBufferPointer(rebasing: raw[0..<length])
        var now = link.now
        measure("handle-check-request", iterations: iterations) {
            now = now + Interval(nanoseconds: 1000)
            _ = b.handle(packet: msg, from: from, to: to, now: now)
            while b.pollTransmit() != nil {}
        }
    }
}

/// `ice-bench alloc-check`: exit status 1 if agents allocate after start-up, or if the session
/// does not connect or drops during the consent cycles (an allocation-free session that lost
/// consent proves nothing about the steady state).
func runAllocationCheck(closePeerAfter: Int? = nil) -> Int32 {
    let oneTime = firstConnectAllocations()
    print("first connect in this process: \(oneTime) one-time allocations (first use in the process; a second connect makes none)")
    let r = agentAllocations(consentCycles: 1000, closePeerAfter: closePeerAfter)
    guard r.connected else {
        print("FAIL: the agents did not connect (\(r.datagrams) datagrams exchanged)")
        return 1
    }
    print("agent allocations: connect \(r.connect), 1000 consent cycles \(r.consent) (\(r.datagrams) datagrams exchanged)")
    if let d = r.droppedStates {
        print("FAIL: the session dropped during the consent cycles (\(d))")
        return 1
    }
    if r.connect != 0 || r.consent != 0 {
        print("FAIL: the agents allocated after start-up")
        return 1
    }
    return 0
}
