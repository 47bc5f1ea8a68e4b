import Common
import ICE
import NetworkSimulator
import STUN
import TURN
import Testing

/// The simulated TURN server (RFC 8656) on its own, against raw messages and the sans-IO
/// TURN client, and under two ICE agents that only a relay can connect.
@Suite struct SimulatedTURNTests {
    static let user = TurnCredential(username: "alice", password: "wonderland")

    /// A network with the TURN server on the public internet.
    static func network(lifetime: Interval? = nil) -> (Network, TurnServerEndpoint) {
        let net = Network(seed: 7)
        let server = TurnServerEndpoint(address: Scenario.turnAddress, credentials: [user])
        if let lifetime { server.defaultLifetime = lifetime }
        net.attach(server, to: net.addHost(name: "turn", addresses: [Scenario.turnAddress.ip]))
        return (net, server)
    }

    /// A TURN client behind a symmetric NAT, allocated (or failed) after 2 s.
    static func client(on net: Network, password: String = user.password, seed: UInt64 = 1) -> TurnClientEndpoint {
        let host = net.addSite(name: "C\(seed)", placement: .symmetric, publicAddress: ip("203.0.113.\(30 + seed)"),
                               privateAddress: ip("10.0.9.\(seed)"))
        let c = TurnClientEndpoint(base: host.transportAddress(port: 4000), server: Scenario.turnAddress,
                                   username: user.username, password: password, seed: seed)
        net.attach(c, to: host)
        try? c.client.start(now: net.now)
        net.run(for: .seconds(2))
        return c
    }

    // MARK: Allocate

    @Test func unauthenticatedAllocateIsChallengedThenAccepted() throws {
        let (net, server) = Self.network()
        let probe = ProbeEndpoint()
        let me = addr("192.0.2.10:4000")
        net.attach(probe, to: net.addHost(name: "probe", addresses: [me.ip]))

        probe.send(allocateRequest(id: TransactionID(high: 1, low: 1)), from: me, to: Scenario.turnAddress)
        net.run(for: .seconds(1))
        let challenge = try #require(probe.received.last?.bytes)
        let (realm, nonce) = try challenge.withUnsafeBytes { raw throws -> (String, String) in
            let m = try Message(parsing: raw)
            #expect(m.type == MessageType(.allocate, .errorResponse))
            #expect(try m.errorCode()?.code == 401)
            #expect(m.integrityOffset == nil)
            return (String(decoding: try #require(m.value(.realm)), as: UTF8.self),
                    String(decoding: try #require(m.value(.nonce)), as: UTF8.self))
        }
        #expect(realm == server.realm)
        #expect(server.counters.challenges == 1 && server.allocations.isEmpty)

        let key = IntegrityKey.longTerm(username: Self.user.username, realm: realm, password: Self.user.password)
        let id = TransactionID(high: 1, low: 2)
        let request = allocateRequest(id: id, credentials: (Self.user.username, realm, nonce, key))
        probe.send(request, from: me, to: Scenario.turnAddress)
        net.run(for: .seconds(1))
        let relayed = try #require(probe.received.last?.bytes).withUnsafeBytes { raw throws -> TransportAddress in
            let m = try Message(parsing: raw)
            #expect(m.type == MessageType(.allocate, .successResponse))
            #expect(m.checkIntegrity(key) == .ok)
            #expect(m.checkFingerprint() == .ok)
            #expect(try m.xorAddress(.xorMappedAddress) == me)
            #expect(try m.uint32(.lifetime) == 600)
            return try #require(try m.xorAddress(.xorRelayedAddress))
        }
        #expect(relayed.ip == Scenario.turnAddress.ip && relayed.port >= 49152)
        #expect(server.allocation(relayed: relayed)?.client == me)

        // RFC 8656 §7.2: a retransmission gets the same relay; a new Allocate on the 5-tuple, 437.
        probe.send(request, from: me, to: Scenario.turnAddress)
        probe.send(allocateRequest(id: TransactionID(high: 1, low: 3), credentials: (Self.user.username, realm, nonce, key)),
                   from: me, to: Scenario.turnAddress)
        net.run(for: .seconds(1))
        let answers = probe.received.suffix(2).map(\.bytes)
        answers[0].withUnsafeBytes { #expect((try? Message(parsing: $0).xorAddress(.xorRelayedAddress)) == relayed) }
        answers[1].withUnsafeBytes { #expect((try? Message(parsing: $0).errorCode()?.code) == 437) }
        #expect(server.counters.allocationsCreated == 1)

        // Another client gets another port of the same IP.
        let other = Self.client(on: net)
        #expect(other.client.relayedAddress?.ip == Scenario.turnAddress.ip)
        #expect(other.client.relayedAddress != relayed && other.client.relayedAddress != nil)
    }

    @Test func wrongPasswordFailsOnTheClient() {
        let (net, server) = Self.network()
        let c = Self.client(on: net, password: "guess")
        #expect(c.client.state == .failed)
        let failure = c.events.compactMap { e -> TURNFailure? in if case .failed(let f) = e { return f } else { return nil } }
        #expect(failure == [.wrongCredentials])
        #expect(failure.first?.code == 441)
        #expect(server.counters.challenges == 1 && server.counters.rejectedCredentials == 1)
        #expect(server.allocations.isEmpty)
    }

    @Test func agentWithWrongPasswordStillEndsGatheringAndThePeerRelayCarries() throws {
        let s = Scenario(left: .symmetric, right: .symmetric, seed: 3, relay: true)
        s.right.relay?.password = "guess"
        s.start()
        #expect(s.connect(timeout: .seconds(30)))
        #expect(s.right.relayFailure == .wrongCredentials)
        #expect(s.right.relayedAddress == nil && s.left.relayedAddress != nil)
        // The only relay left is the left agent's: the pair goes through it.
        let pair = try #require(s.left.selected)
        #expect(pair.local.type == .relayed)
        #expect(s.right.selected?.remote.address == s.left.relayedAddress)
    }

    // MARK: Permissions

    @Test func peerDataWithoutPermissionIsDropped() throws {
        let (net, server) = Self.network()
        let c = Self.client(on: net)
        let relayed = try #require(c.client.relayedAddress)
        let peer = ProbeEndpoint(), stranger = ProbeEndpoint()
        let peerAddress = addr("192.0.2.20:7000"), strangerAddress = addr("192.0.2.30:7000")
        net.attach(peer, to: net.addHost(name: "peer", addresses: [peerAddress.ip]))
        net.attach(stranger, to: net.addHost(name: "stranger", addresses: [strangerAddress.ip]))

        peer.send([0x80, 1], from: peerAddress, to: relayed)
        net.run(for: .seconds(1))
        #expect(c.data.isEmpty)
        #expect(server.counters.droppedNoPermission == 1)

        try c.client.createPermission(peer: peerAddress, now: net.now)
        net.run(for: .seconds(1))
        #expect(c.client.hasPermission(peerAddress.ip))
        // The permission is for the IP: any port of it gets through, other IPs still do not.
        peer.send([0x80, 2], from: peerAddress, to: relayed)
        peer.send([0x80, 3], from: addr("192.0.2.20:7001"), to: relayed)
        stranger.send([0x80, 4], from: strangerAddress, to: relayed)
        net.run(for: .seconds(1))
        #expect(c.data.map(\.bytes) == [[0x80, 2], [0x80, 3]])
        #expect(c.data.first?.from == peerAddress)
        #expect(server.counters.droppedNoPermission == 2 && server.counters.dataIndications == 2)

        // And back: a Send indication leaves from the relayed address.
        try [UInt8]([0x80, 5]).withUnsafeBytes { try c.client.send($0, to: peerAddress, now: net.now) }
        net.run(for: .seconds(1))
        #expect(peer.received.last?.bytes == [0x80, 5])
        #expect(peer.received.last?.from == relayed)
    }

    // MARK: Refresh

    @Test func refreshKeepsTheAllocationAliveAndItExpiresWithout() throws {
        let (net, server) = Self.network(lifetime: .seconds(120))
        let kept = Self.client(on: net, seed: 1)
        let starved = Self.client(on: net, seed: 2)
        let starvedRelay = try #require(starved.client.relayedAddress)
        // The second client's Refresh requests (type 0x0004) never leave its host.
        let starvedBase = starved.base
        net.blocked = { from, _, bytes in from == starvedBase && bytes.count >= 2 && bytes[0] == 0 && bytes[1] == 0x04 }

        net.run(until: .zero + .seconds(119))
        #expect(server.allocations.count == 2)
        net.run(until: .zero + .seconds(125))
        #expect(server.allocation(relayed: starvedRelay) == nil)
        #expect(server.counters.allocationsExpired == 1)

        // Ten simulated minutes on, the refreshed one is still there.
        net.run(until: .zero + .seconds(600))
        let relayed = try #require(kept.client.relayedAddress)
        #expect(kept.client.state == .allocated)
        #expect(server.allocation(relayed: relayed) != nil)
        let refreshes = kept.events.filter { if case .refreshed = $0 { return true } else { return false } }.count
        #expect(refreshes >= 8)
    }

    @Test func staleNonceIsReplacedAndTheRefreshGoesThrough() throws {
        let (net, server) = Self.network(lifetime: .seconds(120))
        server.nonceLifetime = .seconds(30)
        let c = Self.client(on: net)
        net.run(until: .zero + .seconds(300))
        // Each refresh (every 60 s) meets an expired nonce, gets 438 with a new one, retries.
        #expect(server.counters.staleNonces >= 4)
        #expect(c.client.state == .allocated)
        #expect(server.allocation(relayed: try #require(c.client.relayedAddress)) != nil)
    }

    @Test func refreshWithLifetimeZeroDeletes() throws {
        let (net, server) = Self.network()
        let c = Self.client(on: net)
        let relayed = try #require(c.client.relayedAddress)
        c.client.close(now: net.now)
        net.run(for: .seconds(1))
        #expect(c.client.state == .closed)
        #expect(c.events.contains { if case .deallocated = $0 { return true } else { return false } })
        #expect(server.allocation(relayed: relayed) == nil && server.counters.allocationsDeleted == 1)
    }

    // MARK: ICE over the relay

    @Test func symmetricAgainstSymmetricConnectsViaRelayAndMediaFlowsBothWays() throws {
        let s = Scenario(left: .symmetric, right: .symmetric, seed: 5, relay: true)
        s.start()
        #expect(s.connect(timeout: .seconds(30)))
        let l = try #require(s.left.selected), r = try #require(s.right.selected)
        #expect(l.local.type == .relayed || l.remote.type == .relayed)
        #expect(r.local.type == .relayed || r.remote.type == .relayed)
        let server = try #require(s.turnServer)
        s.network.run(for: .seconds(1))  // the relayed side binds a channel for the selected pair

        for k in 0..<10 {
            #expect(s.left.sendMedia([0x80, 0x60, 0, UInt8(k)], now: s.network.now))
            #expect(s.right.sendMedia([0x80, 0x60, 1, UInt8(k)], now: s.network.now))
            s.network.run(for: .milliseconds(20))
        }
        s.network.run(for: .seconds(1))
        #expect(s.left.mediaReceived.map { $0.bytes[3] } == Array(0..<10))
        #expect(s.right.mediaReceived.map { $0.bytes[3] } == Array(0..<10))

        // Whichever side holds the relay, media to it arrived on its relayed address and media
        // from it came from that address; both crossed the server, as ChannelData.
        let (relaySide, other) = l.local.type == .relayed ? (s.left, s.right) : (s.right, s.left)
        let relayed = try #require(relaySide.relayedAddress)
        #expect(relaySide.mediaReceived.allSatisfy { $0.to == relayed })
        #expect(other.mediaReceived.allSatisfy { $0.from == relayed })
        #expect(server.counters.channelDataFromClients >= 10 && server.counters.channelDataToClients >= 10)
        #expect(server.counters.droppedNoPermission == 0)

        // The relayed path outlives the permission (300 s), channel (600 s) and allocation
        // (600 s) lifetimes: the client refreshes them all while consent checks keep its NAT
        // binding warm. The other side's allocation, unused, would see no traffic between its
        // refreshes (every 240 s) and lose its NAT binding (120 s idle, RFC 4787 REQ-5), then
        // get 437 on the new 5-tuple; the TURN client's 15 s UDP keepalive (a Binding
        // indication) keeps that binding, so the unused allocation survives too.
        s.network.run(for: .seconds(700))
        #expect(s.bothCompleted)
        #expect(relaySide.relayClient?.state == .allocated)
        #expect(server.allocation(relayed: relayed) != nil)
        #expect(other.relayFailure == nil && other.relayClient?.state == .allocated)
        #expect((other.relayClient?.counters.keepalivesSent ?? 0) >= 700 / 15 - 5)
        #expect(other.relayedAddress.flatMap { server.allocation(relayed: $0) } != nil)
        #expect(server.allocations.count == 2 && server.counters.allocationsExpired == 0)
        let before = relaySide.mediaReceived.count
        #expect(other.sendMedia([0x80, 0x60, 2, 0], now: s.network.now))
        s.network.run(for: .seconds(1))
        #expect(relaySide.mediaReceived.count == before + 1)
    }
}

// MARK: Helpers

/// A lone TURN client on a simulated host, recording what it is told and what it receives.
final class TurnClientEndpoint: SimulatedEndpoint {
    let client: TURNClient<SeededRandom>
    let base: TransportAddress
    private var log: [TURNEvent] = []
    private(set) var data: [(from: TransportAddress, bytes: [UInt8])] = []

    init(base: TransportAddress, server: TransportAddress, username: String, password: String, seed: UInt64) {
        self.base = base
        client = TURNClient(server: server, username: username, password: password, random: SeededRandom(seed: seed))
    }

    /// Every event so far (calls made on `client` directly included).
    var events: [TURNEvent] {
        while let e = client.pollEvent() { log.append(e) }
        return log
    }

    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        bytes.withUnsafeBytes { raw in
            if case .data(let peer, let payload) = client.handle(packet: raw, from: from, now: now) {
                data.append((peer, Array(payload)))
            }
        }
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        client.pollTransmit().map { (base, $0.destination, Array($0.bytes)) }
    }

    func handleTimeout(now: Instant) { client.handleTimeout(now: now) }
    var nextDeadline: Instant? { client.nextDeadline }
}

/// An Allocate request for UDP, with long-term credentials when given (RFC 8489 §9.2.4).
func allocateRequest(id: TransactionID, credentials: (user: String, realm: String, nonce: String, key: IntegrityKey)? = nil)
    -> [UInt8]
{
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = buffer.withUnsafeMutableBytes { raw -> Int in
        do throws(BuildError) {
            var b = try MessageBuilder(into: raw, type: MessageType(.allocate, .request), transactionID: id)
            try b.append(.requestedTransport, uint8: 17)
            if let c = credentials {
                try b.append(.username, text: c.user)
                try b.append(.realm, text: c.realm)
                try b.append(.nonce, text: c.nonce)
                try b.appendMessageIntegrity(c.key)
            }
            try b.appendFingerprint()
            return b.count
        } catch {
            preconditionFailure("cannot build an Allocate: \(error)")
        }
    }
    return Array(buffer[0..<n])
}
