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
