import Common

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

