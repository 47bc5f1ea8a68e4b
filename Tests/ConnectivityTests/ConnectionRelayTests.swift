import Common
import Connectivity
import ICE
import TURN
import Testing

/// `Connection` driven by hand, with no server answering: what it sends where, what it asks
/// its owner to do, and its retry policy, read from its transmits, events and deadlines.
@Suite struct ConnectionRelayTests {
    static let base = TransportAddress(.v4(0xC000_020A), 5000)  // 192.0.2.10
    static let server = TransportAddress(.v4(0xC633_6401), 3478)  // 198.51.100.1

    static func connection(transport: TURNTransport = .udp) -> Connection<SeededRandom> {
        var config = AgentConfiguration()
        config.role = .controlling
        let agent = Agent(configuration: config, random: SeededRandom(seed: 1))
        _ = try? agent.addHostCandidate(base: base)
        let c = Connection(agent: agent, random: SeededRandom(seed: 2))
        var client = TURNConfiguration()
        client.rto = .milliseconds(100)
        client.maxSends = 2
        c.addRelay(RelayServer(server: server, username: "u", password: "p", transport: transport, client: client),
                   base: transport == .udp ? base : nil)
        return c
    }

    /// Runs timers until `until`, checking the deadline invariant after each; returns the
    /// events and transmits seen.
    static func run(_ c: Connection<SeededRandom>, from start: Instant, until end: Instant)
        -> (events: [ConnectionEvent], transmits: [(ConnectionTransmit.Route, TransportAddress, [UInt8])]) {
        var events: [ConnectionEvent] = []
        var transmits: [(ConnectionTransmit.Route, TransportAddress, [UInt8])] = []
        func drain() {
            while let t = c.pollTransmit() { transmits.append((t.route, t.destination, Array(t.bytes))) }
            while let e = c.pollEvent() { events.append(e) }
        }
        drain()
        var now = start
        while let d = c.nextDeadline, d <= end {
            now = max(now, d)
            c.handleTimeout(now: now)
            if let next = c.nextDeadline { #expect(next > now, "deadline left at or before now") }
            drain()
        }
        return (events, transmits)
    }

    static func failures(_ events: [ConnectionEvent]) -> [(TURNFailure, Interval?)] {
        events.compactMap { if case .relayFailed(0, let f, let retry) = $0 { return (f, retry) }; return nil }
    }

    @Test func anUnansweredAllocateIsRetriedWithADoublingBackoff() {
        let c = Self.connection()
        c.start(now: .zero)
        let r = Self.run(c, from: .zero, until: .zero + .seconds(60))
        let f = Self.failures(r.events)
        // The client's own Allocate attempts (TURNTiming.maxAllocateAttempts) time out; then
        // the connection starts fresh clients after 2 s, then 4 s.
        #expect(f.count >= 2)
        #expect(f.first?.0 == .timeout && f.first?.1 == .seconds(2))
        #expect(f.dropFirst().first?.1 == .seconds(4))
        let allocates = r.transmits.filter { $0.0 == .socket(Self.base) && $0.1 == Self.server }
        #expect(allocates.count >= 6)
        // Each fresh attempt is a new client: a new transaction id (bytes 8..<20).
        let ids = Set(allocates.map { Array($0.2[8..<20]) })
        #expect(ids.count >= 3)
    }

    @Test func endOfCandidatesWaitsForTheRelayToSettle() {
        let c = Self.connection()
        c.start(now: .zero)
        #expect(c.agent.externalGatheringPending)
        var early: [ConnectionEvent] = []
        while let e = c.pollEvent() { early.append(e) }
        #expect(!early.contains { if case .endOfCandidates = $0 { return true }; return false })
        #expect(!c.gatheringDone)
        let r = Self.run(c, from: .zero, until: .zero + .seconds(30))
        // The relay failed (nothing answers): gathering is over without it.
        #expect(r.events.contains { if case .endOfCandidates = $0 { return true }; return false })
        #expect(c.gatheringDone && !c.agent.externalGatheringPending)
    }

    @Test func aStreamRelayAsksForItsConnectionAndSendsOnItOnly() {
        let c = Self.connection(transport: .tcp)
        c.start(now: .zero)
        var events: [ConnectionEvent] = []
        while let e = c.pollEvent() { events.append(e) }
        #expect(events.contains { if case .openStream(0, Self.server, _) = $0 { return true }; return false })
        #expect(c.pollTransmit() == nil, "nothing goes out before the connection is open")
        c.streamOpened(relay: 0, now: .zero + .milliseconds(20))
        let t = c.pollTransmit()
        #expect(t?.route == .stream(relay: 0))
        // The connection is lost: the owner is told to close it, and a new one is asked for
        // after the backoff.
        c.streamFailed(relay: 0, now: .zero + .milliseconds(50))
        events.removeAll()
        while let e = c.pollEvent() { events.append(e) }
        #expect(events.contains { if case .closeStream(0) = $0 { return true }; return false })
        #expect(Self.failures(events).first?.0 == .connectionLost)
        #expect(c.relays[0].retryAt == .zero + .milliseconds(50) + .seconds(2))
        let r = Self.run(c, from: .zero + .milliseconds(50), until: .zero + .milliseconds(50) + .seconds(2))
        #expect(r.events.contains { if case .openStream(0, _, _) = $0 { return true }; return false })
    }

    /// The UDP relay's address went away (a new DHCP lease): a fresh allocation from the new
    /// address, at once and without the backoff; with no address of the family left it waits
    /// silently, and starts from the next one that comes.
    @Test func aUDPRelayWhoseBaseWentAwayAllocatesAgainFromANewAddress() {
        let c = Self.connection()
        c.start(now: .zero)
        _ = Self.run(c, from: .zero, until: .zero + .milliseconds(50))
        let second = TransportAddress(.v4(0xC000_020B), 6000), third = TransportAddress(.v4(0xC000_020C), 7000)
        let v6 = TransportAddress(.v6(0x2001_0db8_0000_0000, 1), 5000)
        func rebased(_ events: [ConnectionEvent]) -> [(TransportAddress?, TransportAddress?)] {
            events.compactMap { if case .relayRebased(0, let from, let to) = $0 { return (from, to) }; return nil }
        }
        func allocatesFrom(_ r: (events: [ConnectionEvent], transmits: [(ConnectionTransmit.Route, TransportAddress, [UInt8])])) -> [ConnectionTransmit.Route] {
            r.transmits.filter { $0.1 == Self.server }.map { $0.0 }
        }

        // Another family's address is no home for an IPv4 server's relay.
        c.hostBasesChanged(added: [v6, second], removed: [Self.base], now: .zero + .milliseconds(100))
        var r = Self.run(c, from: .zero + .milliseconds(100), until: .zero + .milliseconds(150))
        var moves = rebased(r.events)
        #expect(moves.count == 1 && moves.first?.0 == Self.base && moves.first?.1 == second)
        #expect(c.relays[0].base == second && c.relays[0].failures == 0)
        #expect(!allocatesFrom(r).isEmpty && allocatesFrom(r).allSatisfy { $0 == .socket(second) }, "\(allocatesFrom(r))")
        #expect(c.agent.externalGatheringPending, "end-of-candidates waits for the new allocation")

        // The only IPv4 address goes too: nothing is sent until one comes back.
        c.hostBasesChanged(added: [], removed: [second], now: .zero + .milliseconds(200))
        r = Self.run(c, from: .zero + .milliseconds(200), until: .zero + .seconds(30))
        moves = rebased(r.events)
        #expect(moves.count == 1 && moves.first?.0 == second && moves.first?.1 == nil)
        #expect(c.relays[0].base == nil && allocatesFrom(r).isEmpty, "\(allocatesFrom(r))")
        #expect(!c.agent.externalGatheringPending, "a relay without an address holds up no gathering")

        c.hostBasesChanged(added: [third], removed: [], now: .zero + .seconds(31))
        r = Self.run(c, from: .zero + .seconds(31), until: .zero + .seconds(31) + .milliseconds(50))
        moves = rebased(r.events)
        #expect(moves.count == 1 && moves.first?.0 == nil && moves.first?.1 == third)
        #expect(!allocatesFrom(r).isEmpty && allocatesFrom(r).allSatisfy { $0 == .socket(third) })
    }

    @Test func backoffDoublesToAMinuteAndConfigurationErrorsAreFinal() {
        // A configuration error: a retry cannot help, so none is scheduled.
        #expect(TURNFailure.wrongCredentials.isConfigurationError)
        #expect(!TURNFailure.timeout.isConfigurationError)
        #expect(RelayRetry.delay(afterFailures: 1) == .seconds(2))
        #expect(RelayRetry.delay(afterFailures: 3) == .seconds(8))
        #expect(RelayRetry.delay(afterFailures: 40) == RelayRetry.maximum)
    }
}
