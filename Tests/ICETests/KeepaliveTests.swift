import Common
import ICE
import ICEHarness
import STUN
import Testing

@Suite struct KeepaliveTests {
    /// Without consent freshness, RFC 8445 §11 Binding indications keep the NAT binding open
    /// every 15 s, and nothing expires.
    @Test func bindingIndicationsWhenConsentIsOff() throws {
        let a = try agent(21, .controlling, hosts: ["192.0.2.1:5000"]) { $0.consentFreshness = false }
        let b = try agent(22, .controlled, hosts: ["192.0.2.2:6000"]) { $0.consentFreshness = false }
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed })
        let before = link.delivered
        #expect(!link.run(until: link.now + .seconds(61)) { a.state != .completed || b.state != .completed })
        // Four indications each way in 61 s, and nothing else (no requests, no responses).
        #expect(link.delivered - before == 8)
    }

    @Test func moreSTUNServersThanCapacityIsCounted() {
        var config = AgentConfiguration()
        config.capacities.stunServers = 1
        config.stunServers = [TransportAddress("198.51.100.1:3478")!, TransportAddress("198.51.100.2:3478")!]
        let a = TestAgent(configuration: config, random: SeededRandom(seed: 1))
        _ = try? a.addHostCandidate(base: TransportAddress("192.0.2.1:5000")!)
        a.startGathering(now: .zero)
        var full = false, sent = 0
        while let e = a.pollEvent() { if case .tableFull(.stunServers) = e { full = true } }
        a.handleTimeout(now: .zero)
        while let t = a.pollTransmit() {
            sent += 1
            #expect(t.destination == TransportAddress("198.51.100.1:3478")!)
        }
        #expect(full && sent == 1)
    }
}
