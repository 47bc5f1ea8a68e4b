import Common
import ICE
import TURN

/// The relayed candidate of an `AgentEndpoint`: allocation, events into the agent, and data
/// coming back through the relay.
extension AgentEndpoint {
    /// The TURN client, once `start` began the allocation (state, counters, permissions).
    public var relayClient: TURNClient<SeededRandom>? { turn?.client }
    /// Why the allocation failed (e.g. 401/441 for wrong credentials), nil otherwise.
    public var relayFailure: TURNFailure? { turn?.failure }
    /// The relayed candidate's address, once allocated.
    public var relayedAddress: TransportAddress? { turn?.relayed }

    func startRelay(_ configuration: RelayConfiguration, now: Instant) {
        // The first host base of the server's family carries the TURN traffic, as in the daemon.
        guard let base = agent.localCandidates.first(where: {
            $0.type == .host && $0.base.ip.isIPv4 == configuration.server.ip.isIPv4
        })?.base else { return }
        // Seeded from the agent's own seeded draws, so a scenario's seed fixes everything.
        let relay = AgentRelay(configuration, base: base, random: SeededRandom(seed: agent.tieBreaker))
        turn = relay
        // RFC 8838 §8 seen from our side: while the allocation is pending, a check list with
        // nothing left to try has not failed yet.
        agent.externalGatheringPending = true
        relay.start(now: now)
    }

    /// TURN events feed the agent: the relayed candidate (with permissions for every remote
    /// candidate already known), or the end of waiting for one.
    func drainRelayEvents(_ relay: AgentRelay, now: Instant) {
        while let e = relay.client.pollEvent() {
            switch e {
            case .allocated(let relayed, let mapped, _):
                relay.relayed = relayed
                relay.settled = true
                _ = try? agent.addRelayedCandidate(address: relayed, server: relay.server, mappedAddress: mapped)
                for r in agent.remoteCandidates { relay.permit(r.address, now: now) }
            case .failed(let f):
                relay.failure = f
                relay.settled = true
            default:
                break
            }
        }
        agent.externalGatheringPending = !relay.settled
    }

    /// A datagram from the TURN server on the shared base: responses stay with the client;
    /// relayed data goes to the agent as received on the relayed candidate (RFC 8445
    /// §5.1.1.2: it is its own base).
    func receiveFromRelay(_ relay: AgentRelay, _ packet: UnsafeRawBufferPointer, now: Instant) {
        guard case .data(let peer, let payload) = relay.client.handle(packet: packet, from: relay.server, now: now),
              let relayed = relay.relayed
        else { return }
        deliver(payload, from: peer, to: relayed, now: now)
    }
}
