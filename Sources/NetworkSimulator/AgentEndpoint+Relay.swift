import Common
import Connectivity
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

/// The relayed candidate of an `AgentEndpoint`: the connection's first relay.
extension AgentEndpoint {
    var relay0: RelayAllocation<SeededRandom>? { connection.relays.first }
    /// The TURN client, once `start` began the allocation (state, counters, permissions).
    public var relayClient: TURNClient<SeededRandom>? { relay0?.client }
    /// Why the allocation failed (e.g. 401/441 for wrong credentials), nil otherwise.
    public var relayFailure: TURNFailure? { relay0?.lastFailure }
    /// The relayed candidate's address, while allocated.
    public var relayedAddress: TransportAddress? { relay0?.candidateAddress }

    /// The first host base of the server's family carries the TURN traffic, as in the daemon.
    func addRelay(_ configuration: RelayConfiguration) {
        var base: TransportAddress? = nil
        for c in agent.localCandidates where c.type == .host && c.base.ip.isIPv4 == configuration.server.ip.isIPv4 {
            base = c.base
            break
        }
        guard let base else { return }
        connection.addRelay(RelayServer(server: configuration.server, username: configuration.username,
                                        password: configuration.password, client: configuration.client), base: base)
    }
}
