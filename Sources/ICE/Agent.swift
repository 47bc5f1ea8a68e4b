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
    /// The owner is still gathering candidates the agent cannot see coming (a TURN allocation):
    /// checking does not fail for lack of pairs meanwhile (RFC 8838 §8 applies to both sides).
    public var externalGatheringPending = false {
        didSet { if oldValue && !externalGatheringPending { failureCheckDue = true } }
    }
    /// Gathering just ended: whether checking has failed must be judged at the next timeout.
    var failureCheckDue = false

    /// The peer is ICE-lite (a=ice-lite): we must be controlling (RFC 8445 §6.1.1).
    public var remoteIsLite = false {
        didSet { if remoteIsLite && !configuration.lite { setRole(.controlling) } }
    }

    /// Candidate and pair tables, each in insertion order, so in increasing id order
    /// (`TableIDs.swift`): everything that refers to an entry keeps its id, never its index.
    var locals: BoundedArray<Candidate>
    var foundationKeys: BoundedArray<FoundationKey>
    var remotes: BoundedArray<Candidate>
    var pairs: BoundedArray<PairEntry>
    var candidateIDs = IDCounter()
    var pairIDs = IDCounter()
    var triggered: Ring<PairID>
    var transactions: BoundedArray<Transaction>
    let transmits: DatagramRing
    var events: Ring<Event>
    var components: [ComponentState]
    /// Media keeps using these across an ICE restart until a new pair is selected.
    var previousSelection: [(local: Candidate, remote: Candidate)?]
    /// When the previous selection's consent runs out: it cannot be refreshed (its
    /// credentials are gone), so it carries media at most this long (RFC 7675 §5.1).
    var previousSelectionExpiry: [Instant?]

    /// The gathering and the check pacers (RFC 8445 §5.1.1.2, §6.1.4.2): each sends at most
    /// one new transaction per Ta. They are separate so the first check does not queue a
    /// whole Ta behind a request to a STUN server (see `pump`).
    var lastGatherSend: Instant? = nil
    var lastCheckSend: Instant? = nil
    var lastRemoteCandidateAt: Instant? = nil
    var remoteEndOfCandidates = false
    /// `remoteCandidateWait` passed since the last remote candidate (no deadline needed).
    var remoteCandidateWaitOver = false
    /// Smallest round trip seen on a successful check (RFC 8445 leaves RTT use to the agent).
    var measuredRTT: Interval? = nil
    var gatheringStarted = false
    /// Every server-reflexive gathering transaction ended (`.gatheringComplete` was emitted).
    public internal(set) var gatheringComplete = false

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
            transactions.removeAll { !$0.isGathering }
            triggered.removeAll()
            // RFC 7675 §5.1: no pair keeps consent past failure. Were new candidates to revive
            // checking, a pair must prove itself again before it is selected and carries media.
            for i in pairs.indices where pairs[i].valid {
                pairs[i].valid = false
                pairs[i].nominated = false
                pairs[i].state = .failed
            }
            for c in components.indices {
                components[c] = ComponentState()
                previousSelection[c] = nil
                previousSelectionExpiry[c] = nil
            }
        }
        emit(.stateChanged(s))
    }

    public var localCandidates: BoundedArray<Candidate> { locals }
    public var remoteCandidates: BoundedArray<Candidate> { remotes }
    public var candidatePairs: CandidatePairList { CandidatePairList(entries: pairs, locals: locals, remotes: remotes) }

    /// The local candidate of the pair at index `p` (a pair's candidates outlive it: removing
    /// a candidate removes its pairs first).
    func local(ofPair p: Int) -> Candidate { locals[locals.index(of: pairs[p].local)!] }
    func remote(ofPair p: Int) -> Candidate { remotes[remotes.index(of: pairs[p].remote)!] }

    /// Where the component's selected pair is in the pair table.
    func selectedIndex(_ ci: Int) -> Int? { components[ci].selected.flatMap { pairs.index(of: $0) } }

    /// Stores a candidate in `table` under a new id; false when the table is full.
    func insert(_ c: Candidate, into table: inout BoundedArray<Candidate>) -> Candidate? {
        guard !table.isFull else { return nil }
        var c = c
        c.id = CandidateID(rawValue: candidateIDs.take())
        table.append(c)
        return c
    }

    func validComponent(_ c: UInt8) -> Bool { c >= 1 && Int(c) <= components.count }

    /// Stops everything: no more transmits or deadlines.
    public func close() {
        transactions.removeAll()
        triggered.removeAll()
        setState(.closed)
    }
}
