import Common
import STUN
import Testing
import TURN

/// RFC 7064 / RFC 7065 URIs as `TURNServerURI` parses them.
@Suite struct ServerURITests {
    func parse(_ text: String, defaultScheme: TURNServerURI.Scheme? = nil) throws(TURNURIError) -> TURNServerURI {
        try TURNServerURI.parse(text, defaultScheme: defaultScheme)
    }

    @Test func turnDefaultsToUDPOnPort3478() throws {
        let u = try parse("turn:turn.example.org")
        #expect(u.scheme == .turn && u.host == "turn.example.org" && u.port == 3478 && u.transport == .udp)
        #expect(!u.hostIsIPLiteral)
        #expect(u.hostAndPort == "turn.example.org:3478")
        #expect(u.description == "turn:turn.example.org:3478?transport=udp")
    }

    @Test func transports() throws {
        #expect(try parse("turn:192.0.2.1:3479?transport=tcp").transport == .tcp)
        #expect(try parse("turn:192.0.2.1?transport=udp").transport == .udp)
        #expect(try parse("turn:192.0.2.1?transport=TCP").transport == .tcp)  // case-insensitive
        #expect(try parse("TURN:192.0.2.1").scheme == .turn)
        let s = try parse("turns:turn.example.org")
        #expect(s.transport == .tls && s.port == 5349 && s.description == "turns:turn.example.org:5349")
        #expect(try parse("turns:turn.example.org:443?transport=tcp").transport == .tls)
        #expect(try parse("turns:turn.example.org:443?transport=tcp").port == 443)
    }

    @Test func ipLiterals() throws {
        let v4 = try parse("turn:192.0.2.1:3478")
        #expect(v4.host == "192.0.2.1" && v4.hostIsIPLiteral)
        let v6 = try parse("turns:[2001:db8::1]:5350?transport=tcp")
        #expect(v6.host == "2001:db8::1" && v6.port == 5350 && v6.transport == .tls && v6.hostIsIPLiteral)
        #expect(v6.hostAndPort == "[2001:db8::1]:5350")
        #expect(try parse("turn:[::1]").port == 3478)
        #expect(throws: TURNURIError.badIPv6Literal) { try parse("turn:2001:db8::1") }
        #expect(throws: TURNURIError.badIPv6Literal) { try parse("turn:[2001:db8::1") }
        #expect(throws: TURNURIError.badIPv6Literal) { try parse("turn:[192.0.2.1]") }
        #expect(throws: TURNURIError.badIPv6Literal) { try parse("turn:[::1]3478") }
        #expect(throws: TURNURIError.badIPv6Literal) { try parse("turn:[nothost]") }
    }

    @Test func stunSchemes() throws {
        let s = try parse("stun:stun.example.org")
        #expect(s.scheme == .stun && s.port == 3478 && s.transport == .udp)
        let ss = try parse("stuns:stun.example.org")
        #expect(ss.scheme == .stuns && ss.port == 5349 && ss.transport == .tls)
        #expect(throws: TURNURIError.badQuery) { try parse("stun:stun.example.org?transport=udp") }
    }

    @Test func rejected() {
        #expect(throws: TURNURIError.dtlsNotSupported) { try parse("turns:turn.example.org?transport=udp") }
        #expect(throws: TURNURIError.unknownTransport("sctp")) { try parse("turn:turn.example.org?transport=sctp") }
        #expect(throws: TURNURIError.badQuery) { try parse("turn:turn.example.org?foo=bar") }
        #expect(throws: TURNURIError.unknownScheme) { try parse("http://turn.example.org") }
        #expect(throws: TURNURIError.unknownScheme) { try parse("turn.example.org:3478") }
        #expect(throws: TURNURIError.badHost) { try parse("turn://turn.example.org") }
        #expect(throws: TURNURIError.badHost) { try parse("turn:user@turn.example.org") }
        #expect(throws: TURNURIError.badHost) { try parse("turn:turn.example.org/path") }
        // Longer than a DNS name can be (mbedTLS would refuse it as SNI, failing the TLS setup).
        #expect(throws: TURNURIError.badHost) { try parse("turns:" + String(repeating: "a", count: 254)) }
        #expect(throws: Never.self) { try parse("turns:" + String(repeating: "a", count: 253)) }
        #expect(throws: TURNURIError.emptyHost) { try parse("turn:") }
        #expect(throws: TURNURIError.emptyHost) { try parse("turn::3478") }
        #expect(throws: TURNURIError.badPort) { try parse("turn:turn.example.org:0") }
        #expect(throws: TURNURIError.badPort) { try parse("turn:turn.example.org:65536") }
        #expect(throws: TURNURIError.badPort) { try parse("turn:turn.example.org:") }
        #expect(throws: TURNURIError.badPort) { try parse("turn:turn.example.org:+80") }
        #expect(throws: TURNURIError.badPort) { try parse("turn:turn.example.org:port") }
    }

    @Test func bareHostPortWithADefaultScheme() throws {
        let u = try parse("192.0.2.1:3479", defaultScheme: .turn)
        #expect(u.scheme == .turn && u.host == "192.0.2.1" && u.port == 3479 && u.transport == .udp)
        let h = try parse("turn.example.org", defaultScheme: .turn)
        #expect(h.port == 3478)
        let v6 = try parse("[::1]:3480", defaultScheme: .turn)
        #expect(v6.host == "::1" && v6.port == 3480)
    }
}

/// The client's side of a TCP/TLS connection (RFC 8656 §3.1): losing it loses the allocation.
@Suite struct StreamTransportTests {
    @Test func lostConnectionFailsTheAllocation() {
        let (c, _) = allocated { $0.transport = .tls }
        c.connectionLost(now: at(5))
        #expect(c.state == .failed)
        let events = drainEvents(c)
        #expect(events.count == 1)
        if case .failed(let f) = events.first {
            #expect(f == .connectionLost)
            #expect(f.description == "connection to the server lost")
            #expect(f.code == nil)
        } else {
            Issue.record("expected .failed(.connectionLost), got \(events)")
        }
        // Nothing more is sent or scheduled.
        #expect(drain(c).isEmpty)
        #expect(c.nextDeadline == nil)
        #expect(trySend(c, [1, 2, 3], to: peerA, now: at(6)) == .notAllocated)
    }

    @Test func lostConnectionWhileAllocatingOrBeforeStart() {
        let c = makeClient { $0.transport = .tcp }
        try! c.start(now: at(0))
        _ = drain(c)
        c.connectionLost(now: at(1))
        #expect(c.state == .failed)
        #expect(c.nextDeadline == nil)
        let idle = makeClient { $0.transport = .tcp }
        idle.connectionLost(now: at(0))
        #expect(idle.state == .failed)
        if case .failed(.connectionLost) = drainEvents(idle).first {} else { Issue.record("no .failed event") }
    }

    @Test func lostConnectionWhileClosingFinishesTheClose() {
        let (c, _) = allocated { $0.transport = .tcp }
        c.close(now: at(1))
        #expect(c.state == .closing)
        c.connectionLost(now: at(2))
        #expect(c.state == .closed)
        if case .deallocated = drainEvents(c).last {} else { Issue.record("no .deallocated") }
    }

    @Test func streamTransportsSendOnceAndTimeOutAfterTi() {
        let c = makeClient { $0.transport = .tls }
        try! c.start(now: at(0))
        #expect(drain(c).count == 1)
        // RFC 8489 §6.2.2: no retransmission, one timeout of 39.5 s.
        #expect(c.nextDeadline == at(39.5))
        c.handleTimeout(now: at(20))
        #expect(drain(c).isEmpty)
        c.handleTimeout(now: at(39.5))
        #expect(c.counters.retransmits == 0)
        // The Allocate timeout is retried (a fresh request on the same connection).
        if case .retrying(.timeout, _) = drainEvents(c).first {} else { Issue.record("expected a retry") }
    }
}
