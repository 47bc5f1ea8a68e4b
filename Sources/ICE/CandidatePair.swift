import Common

/// RFC 8445 §6.1.2.6 pair states.
public enum PairState: UInt8, Sendable {
    case frozen, waiting, inProgress, succeeded, failed

    public var name: StaticString {
        switch self {
        case .frozen: return "frozen"
        case .waiting: return "waiting"
        case .inProgress: return "in-progress"
        case .succeeded: return "succeeded"
        case .failed: return "failed"
        }
    }
}

/// A pair of a local and a remote candidate as the agent's pair table holds it: the
/// candidates and the pair it was discovered from are named by id, so removing a candidate or
/// replacing a pair leaves every other entry as it was.
struct PairEntry: IdentifiedEntry {
    // Declared widest first, so that the one-byte fields share the padding after the
    // optional's tag (256 of these per agent).
    var id: PairID
    var local: CandidateID
    var remote: CandidateID
    var priority: UInt64
    /// A valid pair learned from a check on another pair (its local candidate is the
    /// peer-reflexive one from XOR-MAPPED-ADDRESS); never scheduled for checks itself.
    var discoveredFrom: PairID? = nil
    var component: UInt8
    var state: PairState = .frozen
    /// In the valid list (RFC 8445 §7.2.5.3.2): a check on it succeeded.
    var valid = false
    var nominated = false
    /// An authenticated check from the peer arrived on this pair ("readable" in the
    /// terminology of early ICE drafts; `valid` is "writable").
    var receivedCheck = false
    /// Controlled side: the peer sent USE-CANDIDATE on this pair before it was valid; it is
    /// nominated when its own check succeeds (RFC 8445 §7.3.1.5).
    var nominateOnSuccess = false
    /// Controlling side: a nomination check (with USE-CANDIDATE) is outstanding.
    var nominating = false
    /// When this pair last went In-Progress (for nomination patience).
    var inProgressSince: Instant? = nil

    init(id: PairID, local: CandidateID, remote: CandidateID, component: UInt8, priority: UInt64) {
        self.id = id
        self.local = local
        self.remote = remote
        self.component = component
        self.priority = priority
    }
}

/// A candidate pair as the agent's owner sees it (`Agent.candidatePairs`).
public struct CandidatePair: Sendable {
    public var id: PairID
    public var localID: CandidateID
    public var remoteID: CandidateID
    /// Positions of the candidates in `localCandidates` and `remoteCandidates` when the
    /// table was read (they move when a candidate before them is removed; the ids do not).
    public var local: Int
    public var remote: Int
    public var component: UInt8
    public var priority: UInt64
    public var state: PairState
    /// In the valid list (RFC 8445 §7.2.5.3.2): a check on it succeeded.
    public var valid: Bool
    public var nominated: Bool
    /// An authenticated check from the peer arrived on this pair.
    public var receivedCheck: Bool

    /// RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling side's.
    public static func priority(controlling g: UInt32, controlled d: UInt32) -> UInt64 {
        (UInt64(min(g, d)) << 32) + 2 * UInt64(max(g, d)) + (g > d ? 1 : 0)
    }
}

/// The agent's pair table read as `CandidatePair`s, in check-list order. A copy of the
/// tables taken when it was read: it allocates nothing unless the agent changes them while
/// the list is held.
public struct CandidatePairList: RandomAccessCollection {
    let entries: BoundedArray<PairEntry>
    let locals: BoundedArray<Candidate>
    let remotes: BoundedArray<Candidate>

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(i: Int) -> CandidatePair {
        let e = entries[i]
        return CandidatePair(id: e.id, localID: e.local, remoteID: e.remote,
                             local: locals.index(of: e.local) ?? -1, remote: remotes.index(of: e.remote) ?? -1,
                             component: e.component, priority: e.priority, state: e.state, valid: e.valid,
                             nominated: e.nominated, receivedCheck: e.receivedCheck)
    }
}
