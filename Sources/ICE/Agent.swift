import Common
import STUN

/// The ICE agent (RFC 8445), sans-IO: it is handed datagrams and the time, and says what to
/// send, when to be called again, and what happened. No sockets, clocks, threads or
/// randomness inside: `Random` is injected.
///
///     agent.handle(packet:from:to:now:)   // a datagram arrived on a local base
///     agent.handleTimeout(now:)           // the deadline it asked for has come
///     agent.pollTransmit()                // next datagram to send
///     agent.pollEvent()                   // candidates, state, selected pair...
///     agent.nextDeadline                  // when to call handleTimeout next
///
/// All tables are allocated at creation with the configured capacities; after that the
/// packet path allocates nothing.
public final class Agent<Random: RandomSource> {
    public let configuration: AgentConfiguration
    var random: Random
    public internal(set) var role: Role
    public internal(set) var tieBreaker: UInt64
    public internal(set) var localCredentials: Credentials
    public internal(set) var remoteCredentials: Credentials?
    public internal(set) var state: AgentState = .new
    public internal(set) var counters = Counters()
    /// The peer is ICE-lite (a=ice-lite): we must be controlling (RFC 8445 §6.1.1).
    /// The owner is still gathering candidates the agent cannot see coming (a TURN allocation):
    /// checking does not fail for lack of pairs meanwhile (RFC 8838 §8 applies to both sides).
    public var externalGatheringPending = false {
        didSet { if oldValue && !externalGatheringPending { failureCheckDue = true } }
    }
    /// Gathering just ended: whether checking has failed must be judged at the next timeout.
    var failureCheckDue = false

    public var remoteIsLite = false {
        didSet { if remoteIsLite && !configuration.lite { setRole(.controlling) } }
    }

    var locals: BoundedArray<Candidate>
    var foundationKeys: BoundedArray<FoundationKey>
    var remotes: BoundedArray<Candidate>
    var pairs: BoundedArray<CandidatePair>
    var triggered: Ring<Int>
    var transactions: BoundedArray<Transaction>
    let transmits: DatagramRing
    var events: Ring<Event>
    var components: [ComponentState]
    /// Media keeps using these across an ICE restart until a new pair is selected.
    var previousSelection: [(local: Candidate, remote: Candidate)?]
    /// When the previous selection's consent runs out: it cannot be refreshed (its
    /// credentials are gone), so it carries media at most this long (RFC 7675 §5.1).
    var previousSelectionExpiry: [Instant?]

    var lastPacedSend: Instant? = nil
    var lastRemoteCandidateAt: Instant? = nil
    var remoteEndOfCandidates = false
    /// `remoteCandidateWait` passed since the last remote candidate (no deadline needed).
    var remoteCandidateWaitOver = false
    /// Smallest round trip seen on a successful check (RFC 8445 leaves RTT use to the agent).
    var measuredRTT: Interval? = nil
    var gatheringStarted = false
    var gatheringComplete = false

    struct ComponentState {
        var selected: Int? = nil
        /// Whether `selected` was nominated when last announced.
        var announcedNominated = false
        var firstValidAt: Instant? = nil
        var nextConsent: Instant? = nil
        var lastConsent: Instant? = nil
        var lastKeepalive: Instant? = nil
    }

    public init(configuration: AgentConfiguration, random: Random) {
        self.configuration = configuration
        self.random = random
        let caps = configuration.capacities
        role = configuration.lite ? .controlled : configuration.role
        tieBreaker = self.random.next()
        localCredentials = Credentials.random(&self.random)
        locals = BoundedArray(capacity: caps.localCandidates)
        foundationKeys = BoundedArray(capacity: caps.localCandidates)
        remotes = BoundedArray(capacity: caps.remoteCandidates)
        pairs = BoundedArray(capacity: caps.pairs)
        triggered = Ring(capacity: caps.pairs)
        transactions = BoundedArray(capacity: caps.transactions)
        transmits = DatagramRing(capacity: caps.transmitQueue, slotSize: transmitSlotSize)
        events = Ring(capacity: caps.events)
        let n = Int(max(1, configuration.components))
        components = [ComponentState](repeating: ComponentState(), count: n)
        previousSelection = [(local: Candidate, remote: Candidate)?](repeating: nil, count: n)
        previousSelectionExpiry = [Instant?](repeating: nil, count: n)
    }

    // MARK: - Polling

    public func pollTransmit() -> Transmit? { transmits.dequeue() }

    public func pollEvent() -> Event? { events.pop() }

    func emit(_ e: Event) {
        if !events.push(e) { counters.tableFull += 1 }
    }

    func tableFull(_ t: Table) {
        counters.tableFull += 1
        emit(.tableFull(t))
    }

    func setState(_ s: AgentState) {
        guard s != state else { return }
        state = s
        if s == .failed {
            // A failed agent sends nothing more (until new candidates or a restart revive it).
            var i = 0
            while i < transactions.count {
                if case .gather = transactions[i].kind { i += 1 } else { _ = transactions.remove(at: i) }
            }
            triggered.removeAll()
        }
        emit(.stateChanged(s))
    }

    func setRole(_ r: Role) {
        guard r != role else { return }
        role = r
        // Pair priorities depend on which side is controlling (RFC 8445 §6.1.2.3).
        for i in pairs.indices { pairs[i].priority = pairPriority(local: pairs[i].local, remote: pairs[i].remote) }
        emit(.roleChanged(r))
    }

    // MARK: - Candidates and credentials

    public var localCandidates: BoundedArray<Candidate> { locals }
    public var remoteCandidates: BoundedArray<Candidate> { remotes }
    public var candidatePairs: BoundedArray<CandidatePair> { pairs }

    func validComponent(_ c: UInt8) -> Bool { c >= 1 && Int(c) <= components.count }

    /// A local base (a bound socket) for `component`: becomes a host candidate.
    /// `localPreference` defaults to preferring IPv6, then the order bases were added
    /// (RFC 8445 §5.1.2.1, RFC 8421).
    @discardableResult
    public func addHostCandidate(base: TransportAddress, component: UInt8 = 1, localPreference: UInt16? = nil) throws(ICEError) -> Candidate {
        guard validComponent(component) else { throw .invalidComponent }
        let pref = localPreference ?? defaultLocalPreference(for: base.ip)
        let c = try addLocal(type: .host, component: component, address: base, base: base, related: nil,
                             server: nil, localPreference: pref)
        emit(.localCandidate(c))
        // A base that appears after remote candidates (a new interface) is paired at once.
        if !remotes.isEmpty {
            pairWithRemotes(localIndex: locals.count - 1)
            if (state == .new || state == .failed) && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        }
        return c
    }

    /// A relayed candidate allocated by the TURN layer (RFC 8656). Its base is itself
    /// (RFC 8445 §5.1.1.2): transmits from it go to the TURN client to be wrapped, and
    /// datagrams the relay delivers are handed in with `to:` the relayed address.
    /// `serverTransport` is how the TURN server was reached (UDP, TCP or TLS): relayed
    /// candidates obtained over different transports get different foundations
    /// (RFC 8445 §5.1.1.3), so their pairs are unfrozen independently (§6.1.2.6).
    @discardableResult
    public func addRelayedCandidate(address: TransportAddress, server: TransportAddress, serverTransport: ServerTransport = .udp,
                                    mappedAddress: TransportAddress? = nil, component: UInt8 = 1,
                                    localPreference: UInt16 = 65535) throws(ICEError) -> Candidate {
        guard validComponent(component) else { throw .invalidComponent }
        let c = try addLocal(type: .relayed, component: component, address: address, base: address,
                             related: mappedAddress, server: server.ip, serverTransport: serverTransport,
                             localPreference: localPreference)
        emit(.localCandidate(c))
        pairWithRemotes(localIndex: locals.count - 1)
        if (state == .new || state == .failed) && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        return c
    }

    func defaultLocalPreference(for ip: IPAddress) -> UInt16 {
        // The same IP (another component) keeps its preference; each new IP of a family
        // ranks below the previous one.
        var sameFamily = 0
        for c in locals where c.type == .host {
            if c.address.ip == ip { return c.localPreference }
            if c.address.ip.isIPv4 == ip.isIPv4 && c.component == 1 { sameFamily += 1 }
        }
        let top: UInt16 = ip.isIPv4 ? 32767 : 65535
        return top - UInt16(min(sameFamily, 1000)) * 16
    }

    /// `serverTransport` is how `server` was reached; server-reflexive gathering is STUN over
    /// UDP, and candidates without a server ignore it.
    func addLocal(type: CandidateType, component: UInt8, address: TransportAddress, base: TransportAddress,
                  related: TransportAddress?, server: IPAddress?, serverTransport: ServerTransport = .udp,
                  localPreference: UInt16) throws(ICEError) -> Candidate {
        let key = FoundationKey(type: type, baseIP: base.ip, serverIP: server,
                                serverTransport: server == nil ? .udp : serverTransport, transport: .udp)
        let foundation = try foundationFor(key)
        let c = Candidate(type: type, component: component, priority: Candidate.priority(type: type, localPreference: localPreference, component: component),
                          foundation: foundation, address: address, base: base, relatedAddress: related)
        guard locals.append(c) else {
            tableFull(.localCandidates)
            throw .tableFull(.localCandidates)
        }
        return c
    }

    /// RFC 8445 §5.1.1.3: two candidates share a foundation when they have the same type,
    /// base IP, STUN/TURN server IP and transport protocol used to reach that server; for a
    /// relayed candidate that last one is how the TURN server was reached (RFC 8656 §3.1:
    /// UDP, TCP or TLS), although the relayed candidate itself is always UDP.
    struct FoundationKey: Equatable {
        var type: CandidateType
        var baseIP: IPAddress
        var serverIP: IPAddress?
        var serverTransport: ServerTransport
        /// The candidate's own transport (always UDP: RFC 6544 TCP candidates are not supported).
        var transport: TransportProtocol
    }

    func foundationFor(_ key: FoundationKey) throws(ICEError) -> Foundation {
        if let i = foundationKeys.firstIndex(where: { $0 == key }) { return Foundation(number: i + 1) }
        guard foundationKeys.append(key) else {
            tableFull(.localCandidates)
            throw .tableFull(.localCandidates)
        }
        return Foundation(number: foundationKeys.count)
    }

    public func setRemoteCredentials(ufrag: String, password: String) {
        remoteCredentials = Credentials(ufrag: ufrag, password: password)
    }

    /// A remote candidate from signaling, at any time (trickle, RFC 8838).
    public func addRemoteCandidate(_ candidate: Candidate, now: Instant) throws(ICEError) {
        guard validComponent(candidate.component) else { throw .invalidComponent }
        guard candidate.transport == .udp else { throw .unsupportedCandidate }
        guard mayCheck(candidate.address) else { throw .forbiddenAddress }
        lastRemoteCandidateAt = now
        remoteCandidateWaitOver = false
        // A candidate we already know as peer-reflexive gets its signalled type and priority
        // (RFC 8445 §7.3.1.3 note): keep the pairs, refresh their priorities.
        if let i = remotes.firstIndex(where: { $0.address == candidate.address && $0.component == candidate.component }) {
            if remotes[i].type == .peerReflexive {
                remotes[i] = candidate
                for p in pairs.indices where pairs[p].remote == i {
                    pairs[p].priority = pairPriority(local: pairs[p].local, remote: i)
                }
            }
            return
        }
        guard remotes.append(candidate) else {
            tableFull(.remoteCandidates)
            throw .tableFull(.remoteCandidates)
        }
        let r = remotes.count - 1
        for l in locals.indices where locals[l].type == .host || locals[l].type == .relayed {
            addPair(local: l, remote: r, initial: true)
        }
        if state == .new && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        if state == .failed && !pairs.isEmpty { setState(.checking) }
        // No check is sent from here: a description brings several candidates in a row, and
        // the first check must go to the best pair among all of them (RFC 8445 §6.1.4.2). The
        // pacer runs at `nextDeadline`, which is now due.
    }

    /// Signalling is not authenticated by ICE: a candidate must not turn the agent into a
    /// packet source aimed at addresses that are no peer (RFC 8445 §5.1.1 lists the addresses
    /// that are never candidates; RFC 7675 §1 the abuse consent guards against).
    func mayCheck(_ a: TransportAddress) -> Bool {
        let ip = a.ip
        if a.port == 0 || ip.isUnspecified || ip.isMulticast || ip.isLimitedBroadcast { return false }
        if ip.isLoopback && !configuration.allowLoopback { return false }
        return true
    }

    /// The peer signalled end-of-candidates (RFC 8838 §8): failure can now be declared as
    /// soon as every pair failed.
    public func setRemoteEndOfCandidates(now: Instant) {
        remoteEndOfCandidates = true
        checkFailure(now: now)
    }

    func pairWithRemotes(localIndex l: Int) {
        for r in remotes.indices { addPair(local: l, remote: r, initial: true) }
    }

    func pairPriority(local l: Int, remote r: Int) -> UInt64 {
        let lp = locals[l].priority, rp = remotes[r].priority
        return role == .controlling ? CandidatePair.priority(controlling: lp, controlled: rp)
                                    : CandidatePair.priority(controlling: rp, controlled: lp)
    }

    /// Adds a pair if compatible (same component and address family) and not already there.
    /// New check-list pairs start Frozen, or Waiting if first of their foundation (§6.1.2.6).
    @discardableResult
    func addPair(local l: Int, remote r: Int, initial: Bool) -> Int? {
        let lc = locals[l], rc = remotes[r]
        guard lc.component == rc.component, lc.address.ip.isIPv4 == rc.address.ip.isIPv4 else { return nil }
        if let existing = pairs.firstIndex(where: { $0.local == l && $0.remote == r }) { return existing }
        var p = CandidatePair(local: l, remote: r, component: lc.component, priority: pairPriority(local: l, remote: r))
        if initial {
            let sameFoundationActive = pairs.contains { q in
                q.discoveredFrom == nil && q.state != .frozen && q.state != .failed
                    && locals[q.local].foundation == lc.foundation && remotes[q.remote].foundation == rc.foundation
            }
            p.state = sameFoundationActive ? .frozen : .waiting
        }
        guard pairs.append(p) else {
            // RFC 8445 §6.1.2.5: keep the highest-priority pairs; replace a lower Frozen one.
            if let victim = lowestFrozenPair(below: p.priority) {
                pairs[victim] = p
                return victim
            }
            tableFull(.pairs)
            return nil
        }
        return pairs.count - 1
    }

    func lowestFrozenPair(below priority: UInt64) -> Int? {
        var best: Int? = nil
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].priority < priority {
            if best == nil || pairs[i].priority < pairs[best!].priority { best = i }
        }
        return best
    }

    // MARK: - Selection

    /// What media should use for `component`: the nominated pair, else the best valid pair,
    /// else (during an ICE restart) the pair selected before it.
    /// Nil once consent is lost (RFC 7675 §5.1: transmission on the pair must stop) or the
    /// agent is closed.
    public func selectedPair(component: UInt8 = 1) -> (local: Candidate, remote: Candidate, nominated: Bool)? {
        guard validComponent(component), state != .failed, state != .closed else { return nil }
        if let i = components[Int(component) - 1].selected {
            return (locals[pairs[i].local], remotes[pairs[i].remote], pairs[i].nominated)
        }
        if let prev = previousSelection[Int(component) - 1] { return (prev.local, prev.remote, true) }
        return nil
    }

    /// Whether media from `source` arriving on `localBase` belongs to this session: the remote
    /// end of a pair that has proved itself (our check succeeded, or its authenticated check
    /// arrived). RFC 8445 §12.2: be prepared to receive on any candidate pair, since an
    /// RFC 5245 peer nominating aggressively may keep sending on a pair other than ours.
    public func acceptsMedia(from source: TransportAddress, on localBase: TransportAddress) -> Bool {
        for p in pairs where remotes[p.remote].address == source && (p.valid || p.receivedCheck) {
            if locals[p.local].base == localBase { return true }
        }
        return false
    }

    func updateSelection(component: UInt8, now: Instant) {
        let ci = Int(component) - 1
        var best: Int? = nil
        for i in pairs.indices where pairs[i].component == component && pairs[i].valid {
            if pairs[i].nominated && !(best.map { pairs[$0].nominated } ?? false) {
                best = i
            } else if best == nil || (pairs[i].nominated == pairs[best!].nominated && pairs[i].priority > pairs[best!].priority) {
                best = i
            }
        }
        guard let best else {
            // The valid pair was lost (its nomination failed): nothing to send on any more.
            if components[ci].selected != nil {
                components[ci].selected = nil
                components[ci].announcedNominated = false
                components[ci].lastConsent = nil
                components[ci].nextConsent = nil
                if state == .connected || state == .completed || state == .disconnected { setState(.checking) }
                checkFailure(now: now)
            }
            return
        }
        if components[ci].firstValidAt == nil { components[ci].firstValidAt = now }
        if components[ci].selected != best || components[ci].announcedNominated != pairs[best].nominated {
            if components[ci].selected != best {
                // RFC 7675 §5.1: the check that made the pair valid is its first consent; from
                // now on consent is checked on the pair media uses, nominated or not, in
                // either role (RFC 8445 §12.1 lets media use a valid pair before nomination).
                components[ci].lastConsent = now
                if components[ci].nextConsent == nil { components[ci].nextConsent = now + consentInterval() }
            }
            components[ci].selected = best
            components[ci].announcedNominated = pairs[best].nominated
            previousSelection[ci] = nil
            previousSelectionExpiry[ci] = nil
            emit(.selectedPair(component: component, local: locals[pairs[best].local], remote: remotes[pairs[best].remote],
                               nominated: pairs[best].nominated))
        }
        updateState()
    }

    func updateState() {
        guard state != .closed else { return }
        var allValid = true, allNominated = true
        for c in components.indices {
            guard let s = components[c].selected else {
                allValid = false
                allNominated = false
                continue
            }
            if !pairs[s].nominated { allNominated = false }
        }
        if allNominated {
            setState(.completed)
        } else if allValid && (state == .checking || state == .new || state == .disconnected) {
            setState(.connected)
        }
    }

    // MARK: - Close and restart

    /// Stops everything: no more transmits or deadlines.
    public func close() {
        transactions.removeAll()
        triggered.removeAll()
        setState(.closed)
    }

    /// ICE restart (RFC 8445 §9): new local ufrag and password, a fresh check list. Media
    /// keeps flowing on the previously selected pair until a new one is selected.
    public func restart(now: Instant) {
        for c in components.indices {
            // Media goes on over the old pair only while it still has consent (RFC 7675 §5.1).
            if let s = components[c].selected, state != .failed {
                previousSelection[c] = (locals[pairs[s].local], remotes[pairs[s].remote])
                previousSelectionExpiry[c] = (components[c].lastConsent ?? now) + Timing.consentTimeout
            } else if state == .failed {
                previousSelection[c] = nil
                previousSelectionExpiry[c] = nil
            }
            components[c] = ComponentState()
        }
        localCredentials = Credentials.random(&random)
        remoteCredentials = nil
        remotes.removeAll()
        pairs.removeAll()
        triggered.removeAll()
        // Gathering transactions survive; checks and consent belong to the old generation.
        var i = 0
        while i < transactions.count {
            if case .gather = transactions[i].kind { i += 1 } else { _ = transactions.remove(at: i) }
        }
        // Peer-reflexive local candidates belong to the old checks too.
        var j = 0
        while j < locals.count {
            if locals[j].type == .peerReflexive { _ = locals.remove(at: j) } else { j += 1 }
        }
        remoteEndOfCandidates = false
        remoteCandidateWaitOver = false
        lastRemoteCandidateAt = nil
        setState(.checking)
        for k in locals.indices where locals[k].type != .peerReflexive { emit(.localCandidate(locals[k])) }
        if gatheringComplete { emit(.gatheringComplete) }
    }
}
