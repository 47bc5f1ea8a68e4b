import Common
import Crypto
import DTLS
import ICE
import TURN

/// One call's connectivity, sans-IO: the ICE agent and the TURN allocations of its relayed
/// candidates behind one surface. Bytes and time go in (`handle`, `handleTimeout`), and
/// datagrams, deadlines and events come out (`pollTransmit`, `nextDeadline`, `pollEvent`).
/// It routes datagrams between host bases, TURN servers and relayed addresses, keeps the
/// relays' permissions and channels, owns gathering of every candidate kind (so
/// end-of-candidates waits for the relays too, RFC 8838 §13) and the relays' retry,
/// redirect and backoff policy, and settles its own follow-up work before it returns, so its
/// deadline is never left in the past. The daemon, the simulator and the tools drive it the
/// same way; sockets and stream connections stay with them (docs/ARCHITECTURE.md).
public final class Connection<R: RandomSource> {
    public let agent: Agent<R>
    public private(set) var relays: [RelayAllocation<R>] = []
    /// Every kind of gathering ended (the relays allocated or gave up).
    public private(set) var gatheringDone = false
    /// Relay-only: no host or server-reflexive candidates; the bases still carry TURN.
    public let relayOnly: Bool

    var random: R
    var agentGatheringDone = false
    var endOfCandidatesSent = false
    var events = PollQueue<ConnectionEvent>(reserving: 16)
    /// DTLS-SRTP, when the owner asked for it (`secureMedia`).
    var security: MediaSecurity? = nil
    /// The last instant an input carried: `pollTransmit` has none, but wrapping a datagram for
    /// a relay may start a TURN transaction that needs one.
    var clock = Instant.zero

    /// How long a relay that lost its allocation may take to get a new one before ICE judges
    /// the pairs left without it: the consent timeout (RFC 7675 §5.1), the time its pairs
    /// would have had before their consent expired.
    public static var reallocationPatience: Interval { Timing.consentTimeout }

    public init(agent: Agent<R>, random: R, relayOnly: Bool = false) {
        self.agent = agent
        self.random = random
        self.relayOnly = relayOnly
        // Every check and answer carries a FINGERPRINT (RFC 8489 §14.7): the CRC tables, where
        // this CPU needs them, before the first packet rather than on it.
        CRC32.prepare()
    }

    /// A TURN server to allocate a relayed candidate on, before `start`. `base` is the local
    /// address UDP to the server leaves from (nil for TCP and TLS). Returns the relay's index.
    @discardableResult
    public func addRelay(_ server: RelayServer, base: TransportAddress?) -> Int {
        let relay = RelayAllocation(index: relays.count, configuration: server, base: base, random: random.split())
        relays.append(relay)
        return relay.index
    }

    /// Starts gathering: server-reflexive in the agent, relayed here.
    public func start(now: Instant) {
        clock = now
        if relayOnly { agentGatheringDone = true } else { agent.startGathering(now: now) }
        for relay in relays { startAttempt(relay, now: now) }
        settle(now: now, timers: true)
    }

    // MARK: Signaling in

    /// A remote candidate for the agent, and a permission for it on each relay (RFC 8656 §9:
    /// checks from the relayed candidate, and the peer's towards it, need one).
    public func addRemoteCandidate(_ c: Candidate, now: Instant) throws(ICEError) {
        clock = now
        try agent.addRemoteCandidate(c, now: now)
        permitOnRelays(c.address, now: now)
        // The agent's due work waits for the owner's next `handleTimeout`: a description
        // brings its candidates one call each, and the first check must go to the best pair
        // among all of them (RFC 8445 §6.1.4.2), not to whichever candidate came first.
        settle(now: now, agentTimers: false)
    }

    public func setRemoteEndOfCandidates(now: Instant) {
        clock = now
        agent.setRemoteEndOfCandidates(now: now)
        settle(now: now)
    }

    /// The host's addresses changed: `added` bases get host candidates and server-reflexive
    /// gathering (RFC 8445 §5.1.1), `removed` ones leave with their candidates, pairs and
    /// checks. After end-of-candidates the new candidates reach the peer only through an ICE
    /// restart (RFC 8838 §13), which the owner does next; the new gathering holds the next
    /// end-of-candidates back until it is done.
    public func hostBasesChanged(added: [TransportAddress], removed: [TransportAddress], now: Instant) {
        clock = now
        changeHostBases(added: added, removed: removed, now: now)
        settle(now: now)
    }

    func changeHostBases(added: [TransportAddress], removed: [TransportAddress], now: Instant) {
        for r in removed { _ = agent.removeLocalCandidate(r, now: now) }
        rebaseRelays(added: added, removed: removed, now: now)
        var any = false
        for a in added where !relayOnly {
            if (try? agent.addHostCandidate(base: a)) != nil { any = true }
        }
        if any {
            agent.startGathering(now: now)
            // Without a STUN server (or with only bases it cannot serve) there is nothing to wait for.
            if !agent.gatheringComplete { agentGatheringDone = false }
        }
    }

    /// ICE restart (RFC 8445 §9): new local credentials and a fresh check list; the
    /// candidates stay and are signaled again as the new generation, end-of-candidates too
    /// (RFC 8838 §13). The caller then sets the peer's new credentials on the agent.
    /// With `added` or `removed` host bases (the network changed), the bases change inside
    /// the restart, before end-of-candidates can be judged for the new generation.
    public func restart(now: Instant, added: [TransportAddress] = [], removed: [TransportAddress] = []) {
        clock = now
        agent.restart(now: now)
        changeHostBases(added: added, removed: removed, now: now)
        gatheringDone = false
        endOfCandidatesSent = false
        settle(now: now)
    }

    // MARK: Network in

    /// A datagram that arrived on the local base `local`. What came from a relay's server
    /// goes to its TURN client, and relayed data in it to the agent as received on the
    /// relayed address (RFC 8445 §5.1.1.2: it is its own base); STUN goes to the agent;
    /// the rest is media, returned when a pair vouches for its source.
    public func handle(datagram bytes: UnsafeRawBufferPointer, from: TransportAddress, to local: TransportAddress,
                       now: Instant) -> Inbound {
        clock = now
        for relay in relays where !relay.isStream && relay.base == local && relay.client.server == from {
            return handle(fromServer: relay, bytes, now: now)
        }
        let result = deliver(bytes, offset: 0, from: from, to: local, now: now)
        settle(now: now)
        return result
    }

    /// One frame (a STUN message or ChannelData) from a relay's stream connection.
    public func handle(streamFrame bytes: UnsafeRawBufferPointer, relay index: Int, now: Instant) -> Inbound {
        clock = now
        guard index >= 0, index < relays.count, relays[index].isStream else { return .consumed }
        return handle(fromServer: relays[index], bytes, now: now)
    }

    func handle(fromServer relay: RelayAllocation<R>, _ bytes: UnsafeRawBufferPointer, now: Instant) -> Inbound {
        var result = Inbound.consumed
        if case .data(let peer, let payload) = relay.client.handle(packet: bytes, from: relay.client.server, now: now),
           let relayed = relay.client.relayedAddress, let start = payload.baseAddress, let origin = bytes.baseAddress {
            result = deliver(payload, offset: origin.distance(to: start), from: peer, to: relayed, now: now)
        }
        settle(now: now)
        return result
    }

    func deliver(_ bytes: UnsafeRawBufferPointer, offset: Int, from: TransportAddress, to local: TransportAddress,
                 now: Instant) -> Inbound {
        guard agent.handle(packet: bytes, from: from, to: local, now: now) == .notSTUN else { return .consumed }
        // Media only from the remote end of a proven pair (the selected one first: the cheap
        // common case).
        if let s = agent.selectedPair(), s.remote.address == from, s.local.base == local {
            if deliverDTLS(bytes, from: from, to: local, now: now) { return .consumed }
            return .media(source: from, local: local, range: offset..<offset + bytes.count)
        }
        guard agent.acceptsMedia(from: from, on: local) else {
            return .unknownSource(source: from, local: local, range: offset..<offset + bytes.count)
        }
        if deliverDTLS(bytes, from: from, to: local, now: now) { return .consumed }
        return .media(source: from, local: local, range: offset..<offset + bytes.count)
    }

    // MARK: Output

    /// The next datagram to send. The agent's datagrams from a relayed candidate are wrapped
    /// by its relay here (Send indication, or ChannelData once a channel is bound) and come
    /// out as that relay's transmits.
    public func pollTransmit() -> ConnectionTransmit? {
        while true {
            for relay in relays {
                guard let t = relay.client.pollTransmit() else { continue }
                if relay.isStream {
                    return ConnectionTransmit(route: .stream(relay: relay.index), destination: t.destination, bytes: t.bytes)
                }
                guard let base = relay.base else { continue }
                return ConnectionTransmit(route: .socket(base), destination: t.destination, bytes: t.bytes)
            }
            guard let t = agent.pollTransmit() else {
                switch pollSecurityTransmit() {
                case .none: return nil
                case .again: continue
                case .send(let t): return t
                }
            }
            if let relay = relayOwning(t.source) {
                _ = wrap(t.bytes, through: relay, to: t.destination, now: clock)
                continue
            }
            if isRelayedAddress(t.source) { continue }  // a relay that is gone: nothing to send from
            return ConnectionTransmit(route: .socket(t.source), destination: t.destination, bytes: t.bytes)
        }
    }

    public func pollEvent() -> ConnectionEvent? { events.pop() }

    func emit(_ e: ConnectionEvent) { events.push(e) }

    // MARK: Time

    public var nextDeadline: Instant? {
        var d = agent.nextDeadline
        for relay in relays {
            earliest(&d, relay.client.nextDeadline)
            earliest(&d, relay.retryAt)
            if let lost = relay.lostAt { earliest(&d, lost + Connection.reallocationPatience) }
        }
        earliest(&d, security?.endpoint.nextDeadline)
        earliest(&d, handshakeDeadline)
        return d
    }

    /// The relays' own policy timers here; the agent's and the TURN clients' timers in
    /// `settle`'s first round.
    public func handleTimeout(now: Instant) {
        clock = now
        for relay in relays { relayTimeout(relay, now: now) }
        security?.endpoint.handleTimeout(now: now)
        startHandshakeIfReady(now: now)
        settle(now: now, timers: true)
    }

    // MARK: Media

    /// Media for the peer over the selected pair: through its relay when the pair's local
    /// candidate is a relayed one; otherwise the owner sends it from the pair's base.
    public func sendMedia(_ bytes: UnsafeRawBufferPointer, now: Instant) -> MediaRoute {
        guard let pair = agent.selectedPair() else { return .noPair }
        // The pair's base decides, not its type: a peer-reflexive candidate learned by a check
        // sent through a relay has the relayed address as its base (RFC 8445 §7.2.5.3.1), and
        // no socket is bound to that address.
        if let relay = relayOwning(pair.local.base) {
            clock = now
            return wrap(bytes, through: relay, to: pair.remote.address, now: now) ? .relayed : .refused
        }
        if pair.local.type == .relayed || isRelayedAddress(pair.local.base) { return .refused }
        return .direct(source: pair.local.base, destination: pair.remote.address)
    }

    /// Deallocates every relay (Refresh with LIFETIME 0, RFC 8656 §7.2; the owner then polls
    /// the transmits and closes stream connections) and closes the agent.
    public func close(now: Instant) {
        clock = now
        for relay in relays where !relay.closed {
            relay.closed = true
            relay.retryAt = nil
            relay.lostAt = nil
            relay.client.close(now: now)
        }
        security?.endpoint.close(now: now)
        agent.close()
        settle(now: now)
    }

    // MARK: Settling

    /// Acts on what the relays and the agent reported until neither has anything more due
    /// now: relay events can hand the agent a candidate to pair, and agent events a channel
    /// to bind. Bounded: each round consumes queued events or runs due timers. An input that
    /// reported nothing (a media datagram) costs two empty polls: the timers it did not
    /// touch are the owner's loop's business, as always; after `handleTimeout` (`timers`)
    /// the first round runs them too, so no deadline is left in the past. Without
    /// `agentTimers` the agent's due work is left to that next `handleTimeout`.
    func settle(now: Instant, timers: Bool = false, agentTimers: Bool = true) {
        var runTimers = timers
        for _ in 0..<8 {
            var progressed = drainRelayEvents(now: now)
            progressed = drainAgentEvents(now: now) || progressed
            progressed = drainSecurityEvents() || progressed
            guard progressed || runTimers else { break }
            runTimers = false
            // A relay settling ends the agent's wait for gathering: its failure check is due.
            checkGatheringDone()
            if agentTimers, let d = agent.nextDeadline, d <= now { agent.handleTimeout(now: now) }
            for relay in relays {
                if let d = relay.client.nextDeadline, d <= now { relay.client.handleTimeout(now: now) }
            }
        }
    }

    func drainAgentEvents(now: Instant) -> Bool {
        var any = false
        while let e = agent.pollEvent() {
            any = true
            switch e {
            case .localCandidate(let c):
                // One withdrawn since (a restart re-announces every candidate, then the bases
                // that went away take theirs along) is not signaled: its address is dead.
                guard agent.localCandidates.contains(where: { $0.address == c.address && $0.base == c.base }) else { break }
                emit(endOfCandidatesSent ? .unsignaledCandidate(c) : .localCandidate(c))
            case .gatheringComplete:
                agentGatheringDone = true
            case .stateChanged(let s):
                emit(.stateChanged(s))
            case .selectedPair(let component, let local, let remote, let nominated):
                // A relayed base (a relayed candidate or a peer-reflexive one found through it):
                // its relay binds a channel; any other base is no relay's and binds none.
                bindChannel(relayed: local.base, peer: remote.address, now: now)
                emit(.selectedPair(component: component, local: local, remote: remote, nominated: nominated))
                startHandshakeIfReady(now: now)
            case .roleChanged(let role):
                emit(.roleChanged(role))
            case .tableFull(let t):
                emit(.tableFull(t))
            case .mappingChanged(let component, let was, let now):
                emit(.mappingChanged(component: component, was: was, now: now))
            }
        }
        return any
    }

    /// End-of-candidates waits for the agent's own gathering and for every relay to settle;
    /// it follows the candidates already emitted.
    func checkGatheringDone() {
        updateGatheringPending()
        guard !gatheringDone, agentGatheringDone else { return }
        for relay in relays where !relay.settled { return }
        gatheringDone = true
        endOfCandidatesSent = true
        emit(.endOfCandidates)
    }

    /// RFC 8838 §8 seen from our side: while an allocation is pending, or a lost one may
    /// still be replaced, a check list with nothing left to try has not failed yet.
    func updateGatheringPending() {
        var pending = false
        for relay in relays where !relay.settled || relay.lostAt != nil { pending = true }
        if agent.externalGatheringPending != pending { agent.externalGatheringPending = pending }
    }

    func relayOwning(_ local: TransportAddress) -> RelayAllocation<R>? {
        for relay in relays where relay.relays(from: local) { return relay }
        return nil
    }

    func isRelayedAddress(_ local: TransportAddress) -> Bool {
        for relay in relays where relay.lastRelayed == local { return true }
        return false
    }
}

func earliest(_ d: inout Instant?, _ t: Instant?) {
    guard let t else { return }
    if d == nil || t < d! { d = t }
}
