import AllocationCounter
import Common
import ICE
import ICEHarness
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
func agentAllocations(consentCycles: Int) -> (connect: Int, consent: Int, completedAt: Instant, datagrams: Int) {
    let link = makeAgentPair(latency: .milliseconds(10))
    try! link.exchangeCandidates()
    link.allocationCounter = { allocationCount }
    _ = link.run(until: .zero + .seconds(10)) { link.a.state == .completed && link.b.state == .completed }
    let connect = link.agentAllocations
    let completedAt = link.now
    // Consent checks run every 4-6 s: 1,000 cycles is about 5,000 s of virtual time.
    let end = link.now + Timing.consentBase * Int64(consentCycles)
    let stillUp = link.run(until: end) { link.a.state != .completed || link.b.state != .completed }
    if stillUp { print("error: the session dropped during consent cycles: \(link.a.state.name) / \(link.b.state.name)") }
    return (connect, link.agentAllocations - connect, completedAt, link.delivered)
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

    let allocs = agentAllocations(consentCycles: 1000)
    print("agent-allocations-connect: \(allocs.connect)")
    print("agent-allocations-1000-consent-cycles: \(allocs.consent)")

    // Memory per agent with default capacities: bytes allocated by creating one.
    let before = allocatedBytes
    let agent = BenchAgent(configuration: AgentConfiguration(), random: SeededRandom(seed: 3))
    _ = try! agent.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!)
    print("agent-memory-default-capacities: \(allocatedBytes - before) bytes")

    // CPU per handled check: an authenticated Binding request in, a response out.
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

/// `ice-bench alloc-check`: exit status 1 if agents allocate after start-up.
func runAllocationCheck() -> Int32 {
    let r = agentAllocations(consentCycles: 1000)
    print("agent allocations: connect \(r.connect), 1000 consent cycles \(r.consent) (\(r.datagrams) datagrams exchanged)")
    return r.connect == 0 && r.consent == 0 ? 0 : 1
}
