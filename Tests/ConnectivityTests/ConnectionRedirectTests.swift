import Common
import Connectivity
import ICE
import TURN
import Testing

/// A relay over TCP redirected by 300 (Try Alternate): one redirect is followed on a new
/// connection; a second one ends the relay, and its client sends nothing more.
@Suite struct ConnectionRedirectTests {
    static let first = TransportAddress(.v4(0xC633_6403), 3478)  // 198.51.100.3
    static let second = TransportAddress(.v4(0xC633_6404), 3478)

    /// The server's 300 to the Allocate `request` (RFC 8489 §10, RFC 8656 §7.4): ERROR-CODE
    /// and ALTERNATE-SERVER, unsigned as before any 401.
    static func tryAlternate(answering request: [UInt8], to alternate: TransportAddress) -> [UInt8] {
        guard case .v4(let ip) = alternate.ip else { return [] }
        let reason = Array("Try Alternate".utf8)
        var attributes: [UInt8] = [0x00, 0x09, 0x00, UInt8(4 + reason.count), 0, 0, 3, 0] + reason
        while attributes.count % 4 != 0 { attributes.append(0) }
        attributes += [0x80, 0x23, 0x00, 0x08, 0x00, 0x01, UInt8(alternate.port >> 8), UInt8(alternate.port & 0xFF),
                       UInt8(ip >> 24), UInt8(ip >> 16 & 0xFF), UInt8(ip >> 8 & 0xFF), UInt8(ip & 0xFF)]
        // Allocate error response (0x0113), the magic cookie and the request's transaction id.
        return [0x01, 0x13, 0x00, UInt8(attributes.count)] + Array(request[4..<20]) + attributes
    }

    static func events(_ c: Connection<SeededRandom>) -> [ConnectionEvent] {
        var events: [ConnectionEvent] = []
        while let e = c.pollEvent() { events.append(e) }
        return events
    }

    /// Found by the `connection` fuzz target: the client had already followed the second
    /// redirect itself and the connection kept it, so after giving the relay up for good it
    /// went on sending (and retrying) Allocates on the stream it had asked its owner to close.
    @Test func aSecondRedirectEndsTheRelayAndItsClientFallsSilent() throws {
        let c = ConnectionRelayTests.connection(transport: .tcp)
        c.start(now: .zero)
        _ = Self.events(c)
        c.streamOpened(relay: 0, now: .zero + .milliseconds(10))
        let allocate = try #require(c.pollTransmit())
        #expect(allocate.route == .stream(relay: 0))
        let redirect = Self.tryAlternate(answering: Array(allocate.bytes), to: Self.first)
        #expect(redirect.withUnsafeBytes { c.handle(streamFrame: $0, relay: 0, now: .zero + .milliseconds(20)) } == .consumed)
        let followed = Self.events(c)
        #expect(followed.contains { if case .closeStream(0) = $0 { return true }; return false })
        #expect(followed.contains { if case .openStream(0, Self.first, _) = $0 { return true }; return false })
        #expect(c.pollTransmit() == nil, "nothing goes out before the new connection is open")

        c.streamOpened(relay: 0, now: .zero + .milliseconds(30))
        let again = try #require(c.pollTransmit())
        #expect(again.route == .stream(relay: 0) && again.destination == Self.first)
        let second = Self.tryAlternate(answering: Array(again.bytes), to: Self.second)
        _ = second.withUnsafeBytes { c.handle(streamFrame: $0, relay: 0, now: .zero + .milliseconds(40)) }
        let ended = Self.events(c)
        #expect(ConnectionRelayTests.failures(ended).map { $0.0 } == [.tooManyRedirects])
        #expect(ConnectionRelayTests.failures(ended).first?.1 == nil, "no retry after a configuration error")
        #expect(ended.contains { if case .closeStream(0) = $0 { return true }; return false })
        #expect(c.pollTransmit() == nil, "nothing more on the stream being closed")

        // Two minutes of timers: no Allocate, no new connection, no retry.
        let later = ConnectionRelayTests.run(c, from: .zero + .milliseconds(40), until: .zero + .seconds(120))
        #expect(!later.transmits.contains { $0.0 == .stream(relay: 0) })
        #expect(!later.events.contains { if case .openStream = $0 { return true }; return false })
        #expect(ConnectionRelayTests.failures(later.events).isEmpty)
        #expect(c.relays[0].retryAt == nil)
    }
}
