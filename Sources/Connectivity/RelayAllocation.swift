import Common
import TURN

/// One relayed candidate's allocation as a `Connection` keeps it: its TURN client, the path
/// to its server and the retry state. A failure (connection lost, allocation expired, server
/// gone) is retried with a fresh client after a backoff (`RelayRetry`), unless a retry cannot
/// help (`TURNFailure.isConfigurationError`).
public final class RelayAllocation<R: RandomSource> {
    /// Position in `Connection.relays`: how stream transmits and events name it.
    public let index: Int
    public let configuration: RelayServer
    public internal(set) var client: TURNClient<R>
    /// UDP: the local address its datagrams leave from and arrive on (a host base of the
    /// server's family, shared with STUN and media, or a socket of its own after a 437).
    public internal(set) var base: TransportAddress?
    /// The server in use: a 300 Try Alternate over TCP or TLS moves to another one.
    public internal(set) var server: TransportAddress
    /// The name its TLS certificate must match: the URI's host, or a redirect's ALTERNATE-DOMAIN.
    public internal(set) var serverName: String
    /// Allocated or failed once: either way gathering no longer waits for it.
    public internal(set) var settled = false
    /// The relayed candidate given to the agent, while its allocation lives.
    public internal(set) var candidateAddress: TransportAddress? = nil
    /// The last relayed address it had: the agent's late transmits from it are recognised
    /// (and dropped) after the allocation is gone, rather than sent from a host socket.
    var lastRelayed: TransportAddress? = nil
    /// Failures since the last successful allocation (for the backoff).
    public internal(set) var failures = 0
    /// The last failure, until an allocation succeeds.
    public internal(set) var lastFailure: TURNFailure? = nil
    /// When the next attempt starts, after a failure.
    public internal(set) var retryAt: Instant? = nil
    /// When the allocation behind the candidate was lost, until a new one is allocated or
    /// `Connection.reallocationPatience` passes.
    var lostAt: Instant? = nil
    var redirects = 0
    /// Peers a channel was requested for (once each, RFC 8656 §12).
    var channels: [TransportAddress] = []
    var closed = false

    init(index: Int, configuration: RelayServer, base: TransportAddress?, random: R) {
        self.index = index
        self.configuration = configuration
        self.base = base
        server = configuration.server
        serverName = configuration.serverName
        client = configuration.makeClient(server: configuration.server, random: random)
        channels.reserveCapacity(2)
    }

    public var label: String { configuration.label }
    public var isStream: Bool { configuration.transport.isStream }

    /// Whether `local` is the relayed address of this allocation (the agent's base for it).
    func relays(from local: TransportAddress) -> Bool {
        client.state == .allocated && client.relayedAddress == local
    }
}
