import Common
import ICE
import TURN

/// The TURN server an `AgentEndpoint` allocates its relayed candidate on, with its
/// long-term credential (RFC 8656).
public struct RelayConfiguration {
    public var server: TransportAddress
    public var username: String
    public var password: String
    public var client = TURNConfiguration()

    public init(server: TransportAddress, username: String, password: String) {
        self.server = server
        self.username = username
        self.password = password
    }
}

/// One allocation for a simulated agent, driven the way the daemon drives its relays
/// (Sources/Daemon/Session+TURN.swift): the TURN client talks to its server from the agent's
/// host base, sharing that socket with STUN and media (what comes from the server's address
/// is the client's); the agent's datagrams from the relayed candidate are wrapped
/// (Send indication, or ChannelData once a channel is bound), and relayed data comes back
/// to the agent addressed to the relayed candidate, its own base (RFC 8445 §5.1.1.2).
final class AgentRelay {
    let client: TURNClient<SeededRandom>
    let base: TransportAddress
    let server: TransportAddress
    /// Allocated or failed: either way gathering no longer waits for it.
    var settled = false
    var failure: TURNFailure?
    /// The relayed address handed to the agent. Kept after a failure, so the agent's late
    /// transmits from it are still recognised (and dropped) rather than sent from an
    /// address that is not the host's.
    var relayed: TransportAddress?
    /// Peers a channel was asked for (once each).
    var channelPeers: [TransportAddress] = []
    /// Datagrams the client refused to wrap (no allocation, table full).
    var sendFailures = 0

    init(_ configuration: RelayConfiguration, base: TransportAddress, random: SeededRandom) {
        self.base = base
        server = configuration.server
        client = TURNClient(server: configuration.server, username: configuration.username,
                            password: configuration.password, configuration: configuration.client, random: random)
    }

    func start(now: Instant) {
        do throws(TURNError) { try client.start(now: now) } catch {
            settled = true  // only a second start throws; nothing to wait for
        }
    }

    func owns(_ local: TransportAddress) -> Bool { relayed == local }

    /// RFC 8656 §9: the server relays only to and from permitted IPs, so each remote
    /// candidate gets one as soon as it is known (checks from the relayed candidate to it
    /// and its checks towards us both depend on it). Host IPs of other realms get one too,
    /// harmlessly: nothing can come from them.
    func permit(_ peer: TransportAddress, now: Instant) {
        guard client.state == .allocated, let relayed, relayed.ip.isIPv4 == peer.ip.isIPv4,
              !client.hasPermission(peer.ip)
        else { return }
        try? client.createPermission(peer: peer, now: now)
    }

    /// Wraps one datagram for `peer`. A peer learned only now (peer-reflexive) gets its
    /// permission first; the CreatePermission leaves before the Send indication on the same
    /// path, so the server has installed it when the data arrives.
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer, to peer: TransportAddress, now: Instant) -> Bool {
        permit(peer, now: now)
        do throws(TURNError) {
            try client.send(bytes, to: peer, now: now)
            return true
        } catch {
            sendFailures += 1
            return false
        }
    }

    /// A selected pair on the relayed candidate carries media: a channel saves 32 bytes a
    /// datagram (RFC 8656 §12).
    func bindChannel(peer: TransportAddress, now: Instant) {
        guard client.state == .allocated, !channelPeers.contains(peer) else { return }
        channelPeers.append(peer)
        _ = try? client.bindChannel(peer: peer, now: now)
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        client.pollTransmit().map { (base, $0.destination, Array($0.bytes)) }
    }
}
