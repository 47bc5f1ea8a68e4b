import Common
import Connectivity
import ICE
import TURN
import Testing

/// A pair whose local candidate is peer-reflexive with a relayed address as its base: the
/// peer saw the relayed checks from another address (a NAT between the TURN server and the
/// peer), so RFC 8445 §7.2.5.3.1 gives a new local candidate whose base is the relayed
/// address. Media on it goes through the relay, as on the relayed candidate itself.
@Suite struct ConnectionRelayedBaseTests {
    static let relayed = TransportAddress(.v4(0xC633_6401), 49152)  // 198.51.100.1:49152
    /// Where the peer sees the relayed traffic come from.
    static let translated = TransportAddress(.v4(0xC633_644D), 61000)
    static let peerHost = TransportAddress(.v4(0xCB00_7164), 5000)  // 203.0.113.100

    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var a: [UInt8] = [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
        while a.count % 4 != 0 { a.append(0) }
        return a
    }

    /// RFC 8489 §14.2: an IPv4 XOR address.
    static func xorAddress(_ a: TransportAddress) -> [UInt8] {
        guard case .v4(let ip) = a.ip else { return [] }
        let port = a.port ^ 0x2112, x = ip ^ 0x2112_A442
        return [0, 1, UInt8(port >> 8), UInt8(port & 0xFF), UInt8(x >> 24), UInt8(x >> 16 & 0xFF), UInt8(x >> 8 & 0xFF), UInt8(x & 0xFF)]
    }

    /// A message with the magic cookie, `id` (12 bytes) and `attributes`, unsigned.
    static func message(_ type: UInt16, id: ArraySlice<UInt8>, _ attributes: [UInt8]) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(attributes.count >> 8), UInt8(attributes.count & 0xFF),
         0x21, 0x12, 0xA4, 0x42] + Array(id) + attributes
    }

    static func attributes(_ m: [UInt8]) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var i = 20
        while i + 4 <= m.count {
            let type = UInt16(m[i]) << 8 | UInt16(m[i + 1]), length = Int(m[i + 2]) << 8 | Int(m[i + 3])
            guard i + 4 + length <= m.count else { break }
            out.append((type, Array(m[(i + 4)..<(i + 4 + length)])))
            i += 4 + (length + 3) & ~3
        }
        return out
    }

    @Test func mediaOnAPeerReflexivePairWithARelayedBaseGoesThroughTheRelay() throws {
        let base = ConnectionRelayTests.base, server = ConnectionRelayTests.server
        let c = ConnectionRelayTests.connection()
        var config = AgentConfiguration()
        config.role = .controlled
        let peer = Agent(configuration: config, random: SeededRandom(seed: 3))
        _ = try peer.addHostCandidate(base: Self.peerHost)
        peer.setRemoteCredentials(ufrag: c.agent.localCredentials.ufragText, password: c.agent.localCredentials.passwordText)
        c.agent.setRemoteCredentials(ufrag: peer.localCredentials.ufragText, password: peer.localCredentials.passwordText)

        var now = Instant.zero
        c.start(now: now)
        peer.startGathering(now: now)
        // The server answers the first Allocate (unauthenticated, so unsigned).
        let allocate = try #require(c.pollTransmit())
        let success = Self.message(0x0103, id: Array(allocate.bytes)[8..<20],
                                   Self.attribute(0x0016, Self.xorAddress(Self.relayed)) + Self.attribute(0x000D, [0, 0, 2, 0x58]))
        _ = success.withUnsafeBytes { c.handle(datagram: $0, from: server, to: base, now: now) }
        try c.addRemoteCandidate(Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation(number: 1),
                                           address: Self.peerHost), now: now)

        // Only what goes through the relay reaches the peer, from the translated address; the
        // peer's answers to it come back in Data indications. The server grants every request.
        var routes: [MediaRoute] = []
        for _ in 0..<2000 {
            while let t = c.pollTransmit() {
                let b = Array(t.bytes)
                guard t.destination == server, b.count >= 4 else { continue }
                let type = UInt16(b[0]) << 8 | UInt16(b[1])
                if b[0] & 0xC0 == 0x40 {
                    // ChannelData (RFC 8656 §12.4), once the channel is bound.
                    let data = Array(b[4..<min(b.count, 4 + (Int(b[2]) << 8 | Int(b[3])))])
                    _ = data.withUnsafeBytes { peer.handle(packet: $0, from: Self.translated, to: Self.peerHost, now: now) }
                } else if b.count < 20 {
                    continue
                } else if type == 0x0016, let data = Self.attributes(b).first(where: { $0.0 == 0x0013 })?.1 {
                    _ = data.withUnsafeBytes { peer.handle(packet: $0, from: Self.translated, to: Self.peerHost, now: now) }
                } else if type & 0x0110 == 0 {
                    let ok = Self.message(type | 0x0100, id: b[8..<20], [])
                    _ = ok.withUnsafeBytes { c.handle(datagram: $0, from: server, to: base, now: now) }
                }
            }
            while let t = peer.pollTransmit() {
                guard t.destination == Self.translated else { continue }
                let indication = Self.message(0x0017, id: [UInt8](repeating: 7, count: 12)[...],
                                              Self.attribute(0x0012, Self.xorAddress(Self.peerHost)) + Self.attribute(0x0013, Array(t.bytes)))
                _ = indication.withUnsafeBytes { c.handle(datagram: $0, from: server, to: base, now: now) }
            }
            while c.pollEvent() != nil {}
            if let s = c.agent.selectedPair(), s.nominated {
                routes.append([UInt8](repeating: 0x80, count: 12).withUnsafeBytes { c.sendMedia($0, now: now) })
                break
            }
            guard let d = [c.nextDeadline, peer.nextDeadline].compactMap({ $0 }).min() else { break }
            now = max(now, d)
            c.handleTimeout(now: now)
            peer.handleTimeout(now: now)
        }
        let selected = try #require(c.agent.selectedPair())
        #expect(selected.local.type == .peerReflexive && selected.local.base == Self.relayed)
        #expect(selected.local.address == Self.translated)
        // No socket is bound to the relayed address: the media is wrapped for the relay.
        #expect(routes == [.relayed])
        var wrapped: [(ConnectionTransmit.Route, TransportAddress)] = []
        var channelBind = false
        while let t = c.pollTransmit() {
            wrapped.append((t.route, t.destination))
            if t.bytes.count >= 2 && t.bytes[0] == 0x00 && t.bytes[1] == 0x09 { channelBind = true }
        }
        #expect(!wrapped.isEmpty && wrapped.allSatisfy { $0.0 == .socket(base) && $0.1 == server })
        // The pair got its channel (RFC 8656 §12) as a relayed candidate's does.
        #expect(channelBind || c.relays[0].client.channel(for: Self.peerHost) != nil)
    }
}
