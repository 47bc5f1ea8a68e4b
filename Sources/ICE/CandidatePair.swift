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

/// A pair of a local and a remote candidate (indices into the agent's tables).
public struct CandidatePair: Sendable {
    public var local: Int
    public var remote: Int
    public var component: UInt8
    public var priority: UInt64
    public var state: PairState = .frozen
    /// In the valid list (RFC 8445 §7.2.5.3.2): a check on it succeeded.
    public var valid = false
    public var nominated = false
    /// An authenticated check from the peer arrived on this pair ("readable" in the
    /// terminology of early ICE drafts; `valid` is "writable").
    public var receivedCheck = false
    /// Controlled side: the peer sent USE-CANDIDATE on this pair before it was valid; it is
    /// nominated when its own check succeeds (RFC 8445 §7.3.1.5).
    var nominateOnSuccess = false
    /// Controlling side: a nomination check (with USE-CANDIDATE) is outstanding.
    var nominating = false
    /// A valid pair learned from a check on another pair (its local candidate is the
    /// peer-reflexive one from XOR-MAPPED-ADDRESS); never scheduled for checks itself.
    var discoveredFrom: Int? = nil
    /// When this pair last went In-Progress (for nomination patience).
    var inProgressSince: Instant? = nil

    /// RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling side's.
    public static func priority(controlling g: UInt32, controlled d: UInt32) -> UInt64 {
        (UInt64(min(g, d)) << 32) + 2 * UInt64(max(g, d)) + (g > d ? 1 : 0)
    }
}
