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
    /// A consent response names another address for the selected pair's local side than the
    /// pair has (XOR-MAPPED-ADDRESS, RFC 8489 §14.2): a NAT on the path rebound it to a new
    /// external port, and the peer's media and checks go to the old one (RFC 7675 §5.1 would
    /// only notice at the peer, 30 s later). Once per new address.
    case mappingChanged(component: UInt8, was: TransportAddress, now: TransportAddress)
}

