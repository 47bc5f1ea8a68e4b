import Common

/// RFC 8445 / W3C-style agent states.
public enum AgentState: UInt8, Sendable {
    /// Not yet checking (no remote credentials or candidates).
    case new
    case checking
    /// Every component has a valid pair; media can flow.
    case connected
    /// Every component has a nominated pair.
    case completed
    /// Checks failed, or consent was lost for 30 s.
    case failed
    /// Consent responses are missing; may recover.
    case disconnected
    case closed

    public var name: StaticString {
        switch self {
        case .new: return "new"
        case .checking: return "checking"
        case .connected: return "connected"
        case .completed: return "completed"
        case .failed: return "failed"
        case .disconnected: return "disconnected"
        case .closed: return "closed"
        }
    }
}

/// What the agent tells its owner. Plain values: polling events allocates nothing.
public enum Event: Sendable {
    /// A local candidate to signal to the peer (trickle, RFC 8838).
    case localCandidate(Candidate)
    /// All gathering transactions finished: signal end-of-candidates.
    case gatheringComplete
    case stateChanged(AgentState)
    /// The pair media should use for a component changed (best valid pair, then nominated).
    case selectedPair(component: UInt8, local: Candidate, remote: Candidate, nominated: Bool)
    /// The role changed after a role conflict (RFC 8445 §7.3.1.1).
    case roleChanged(Role)
    /// A fixed table was full; what did not fit was dropped (and counted).
    case tableFull(Table)
}

