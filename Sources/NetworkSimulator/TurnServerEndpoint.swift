import Common
import STUN
import TURN

/// A long-term credential the TURN server accepts (RFC 8489 §9.2).
public struct TurnCredential: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// What the TURN server did, for assertions.
public struct TurnServerCounters: Equatable, Sendable {
    /// 401 to a request without MESSAGE-INTEGRITY: the long-term credential challenge.
    public var challenges = 0
    /// 401 to a request that carried credentials: unknown user, wrong realm or password.
    public var rejectedCredentials = 0
    public var staleNonces = 0
    /// Every error response, the two kinds above included.
    public var errorResponses = 0
    public var allocationsCreated = 0
    /// Deleted by a Refresh with LIFETIME 0.
    public var allocationsDeleted = 0
    /// Timed out without a refresh.
    public var allocationsExpired = 0
    public var sendIndications = 0
    public var channelDataFromClients = 0
    public var dataIndications = 0
    public var channelDataToClients = 0
    /// Datagrams sent from a relayed address to a peer.
    public var relayedToPeers = 0
    /// Peer data arriving without a permission for its IP, or a Send indication to such a peer.
    public var droppedNoPermission = 0
    /// Data for a relayed address nobody holds, or Send/ChannelData on a 5-tuple without one.
    public var droppedNoAllocation = 0
    public var droppedUnboundChannel = 0
    public var droppedMalformed = 0

    public init() {}
}

/// A TURN server (RFC 8656) on one public UDP transport address of the simulated network,
/// sans-IO like every endpoint: long-term credentials with a REALM and counter-derived
/// NONCEs, Allocate, Refresh, CreatePermission, ChannelBind, Send and Data indications and
/// ChannelData. Relayed transport addresses are ports of the server's own IP, so attach it
/// without `addresses` (it owns every port of its host):
///
///     let turn = TurnServerEndpoint(address: addr("198.51.100.2:3478"),
///                                   credentials: [TurnCredential(username: "u", password: "p")])
///     network.attach(turn, to: network.addHost(name: "turn", addresses: [turn.address.ip]))
///
/// Deterministic: no randomness and no clock but the `now` it is handed. Permissions are
/// enforced as coturn does: nothing is relayed to or from a peer IP the client has not
/// permitted. UDP relaying of UDP allocations only; the server's address family only.
public final class TurnServerEndpoint: SimulatedEndpoint {
    /// RFC 8656 §9: fixed by the RFC, not configurable.
    public static let permissionLifetime = Interval.seconds(300)
    /// RFC 8656 §12.
    public static let channelLifetime = Interval.seconds(600)

    /// The TURN server transport address clients send to (RFC 8656 §2).
    public let address: TransportAddress
    public let realm: String
    /// RFC 8656 §7.2: what an allocation gets when the client asks for less or nothing...
    public var defaultLifetime = Interval.seconds(600)
    /// ...and the most it gets whatever it asks (the RFC recommends at most an hour).
    public var maxLifetime = Interval.seconds(3600)
    /// Nonces older than this get 438 (Stale Nonce, RFC 8489 §9.2.4); nil, the default, keeps
    /// them valid forever (RFC 8656 §5 asks for at least hourly expiry; set it to test that).
    public var nonceLifetime: Interval? = nil
    /// Allocations per username before 486 (RFC 8656 §7.2 item 10).
    public var allocationQuota = 8

    public internal(set) var counters = TurnServerCounters()
    public internal(set) var allocations: [TurnAllocation] = []

    let software: StaticString
    /// Keys prepared once per user (RFC 8489 §9.2.2: MD5 over username:realm:password); the
    /// passwords themselves are not kept (RFC 8656 §6).
    let users: [(username: String, key: IntegrityKey)]
    let relayPorts: ClosedRange<UInt16>
    var nextPort: UInt16
    var nonces: [(text: String, issuedAt: Instant)] = []
    var noncesIssued = 0
    /// Transaction ids of Data indications: any value will do (RFC 8489 §6), so a counter.
    var indicationsSent: UInt64 = 0
    var outbox = Outbox()

    public init(address: TransportAddress, realm: String = "sim.test", credentials: [TurnCredential],
                relayPorts: ClosedRange<UInt16> = 49152...65535, software: StaticString = "sim-turn") {
        self.address = address
        self.realm = realm
        self.software = software
        self.relayPorts = relayPorts
        nextPort = relayPorts.lowerBound
        users = credentials.map {
            ($0.username, IntegrityKey.longTerm(username: $0.username, realm: realm, password: $0.password))
        }
    }

    /// The live allocation whose relayed transport address is `relayed`.
    public func allocation(relayed: TransportAddress) -> TurnAllocation? {
        allocations.first { $0.relayed == relayed }
    }

    // MARK: SimulatedEndpoint

    public func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        expire(now: now)
        bytes.withUnsafeBytes { packet in
            if to == address {
                fromClient(packet, client: from, now: now)
            } else if let i = allocations.firstIndex(where: { $0.relayed == to }) {
                fromPeer(packet, allocation: i, peer: from, now: now)
            } else {
                counters.droppedNoAllocation += 1
            }
        }
    }

    public func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { outbox.pop() }

    public func handleTimeout(now: Instant) { expire(now: now) }

    public var nextDeadline: Instant? {
        var d: Instant? = nil
        for a in allocations where d == nil || a.nextExpiry < d! { d = a.nextExpiry }
        return d
    }

    /// Allocations, permissions and channels whose lifetime ran out are gone (RFC 8656 §6:
    /// with an allocation go its permissions and channels).
    func expire(now: Instant) {
        var i = 0
        while i < allocations.count {
            if now >= allocations[i].expiresAt {
                allocations.remove(at: i)
                counters.allocationsExpired += 1
            } else {
                allocations[i].expire(now: now)
                i += 1
            }
        }
    }

    func allocationIndex(client: TransportAddress) -> Int? {
        allocations.firstIndex { $0.client == client }
    }

    // MARK: Client side of the relay

    /// RFC 7983 demultiplexing on the server's own port: ChannelData (first byte 64-79) or STUN.
    func fromClient(_ packet: UnsafeRawBufferPointer, client: TransportAddress, now: Instant) {
        if ChannelData.looksLikeChannelData(packet) {
            channelDataFromClient(packet, client: client, now: now)
            return
        }
        guard let m = try? Message(parsing: packet), m.checkFingerprint() != .bad else {
            counters.droppedMalformed += 1
            return
        }
        switch m.messageClass {
        case .request:
            handleRequest(m, client: client, now: now)
        case .indication:
            // Other indications (Binding keepalives) need no answer (RFC 8489 §6.3.2).
            if m.method == .send && !m.isClassic { sendIndication(m, client: client, now: now) }
        case .successResponse, .errorResponse:
            counters.droppedMalformed += 1  // the server sends no requests
        }
    }

    /// RFC 8656 §11.2: relay DATA to XOR-PEER-ADDRESS from the relayed address, but only to
    /// a permitted IP; indications are not authenticated, so the permission is what keeps a
    /// third party from using the relay to reach arbitrary hosts.
    func sendIndication(_ m: Message, client: TransportAddress, now: Instant) {
        counters.sendIndications += 1
        guard let a = allocationIndex(client: client) else {
            counters.droppedNoAllocation += 1
            return
        }
        guard let peer = try? m.xorAddress(.xorPeerAddress), let data = m.value(.data) else {
            counters.droppedMalformed += 1
            return
        }
        guard allocations[a].permits(peer.ip, now: now) else {
            counters.droppedNoPermission += 1
            return
        }
        relay(data, from: allocations[a].relayed, to: peer)
    }

    /// RFC 8656 §12.6: data on a bound channel goes to its peer. It refreshes neither the
    /// binding nor the permission, so a client that stops refreshing loses the path.
    func channelDataFromClient(_ packet: UnsafeRawBufferPointer, client: TransportAddress, now: Instant) {
        counters.channelDataFromClients += 1
        guard let cd = try? ChannelData(parsing: packet) else {
            counters.droppedMalformed += 1
            return
        }
        guard let a = allocationIndex(client: client) else {
            counters.droppedNoAllocation += 1
            return
        }
        guard let channel = allocations[a].channel(number: cd.channel, now: now) else {
            counters.droppedUnboundChannel += 1
            return
        }
        relay(cd.payload, from: allocations[a].relayed, to: channel.peer)
    }

    func relay(_ data: UnsafeRawBufferPointer, from relayed: TransportAddress, to peer: TransportAddress) {
        // Port 0 is no destination (and the simulated network refuses to send to it).
        guard peer.port != 0, peer.ip.isIPv4 == relayed.ip.isIPv4 else {
            counters.droppedMalformed += 1
            return
        }
        counters.relayedToPeers += 1
        outbox.append(from: relayed, to: peer, bytes: Array(data))
    }

    // MARK: Peer side of the relay

    /// RFC 8656 §11.3 and §9: a datagram at a relayed address is relayed only if a permission
    /// covers its source IP (any port); then as ChannelData when a channel is bound to the
    /// exact source transport address (§12.7, which the server must use), else as a Data
    /// indication.
    func fromPeer(_ packet: UnsafeRawBufferPointer, allocation a: Int, peer: TransportAddress, now: Instant) {
        let allocation = allocations[a]
        guard allocation.permits(peer.ip, now: now) else {
            counters.droppedNoPermission += 1
            return
        }
        var out = [UInt8](repeating: 0, count: packet.count + 64)
        let n = out.withUnsafeMutableBytes { raw -> Int in
            if let channel = allocation.channel(peer: peer, now: now) {
                guard let n = try? ChannelData.write(channel: channel.number, payload: packet, transport: .udp, into: raw)
                else { return 0 }
                counters.channelDataToClients += 1
                return n
            }
            indicationsSent += 1
            do throws(BuildError) {
                var b = try MessageBuilder(into: raw, type: MessageType(.data, .indication),
                                           transactionID: TransactionID(high: 0x5349_4D00, low: indicationsSent))
                try b.append(.xorPeerAddress, xorAddress: peer)
                try b.append(.data, bytes: packet)
                counters.dataIndications += 1
                return b.count
            } catch {
                return 0
            }
        }
        guard n > 0 else {
            counters.droppedMalformed += 1
            return
        }
        outbox.append(from: address, to: allocation.client, bytes: Array(out[0..<n]))
    }
}
