/// The fixed tables of an agent; a full one is a typed error and a counted event.
public enum Table: UInt8, Sendable {
    case localCandidates, remoteCandidates, pairs, transactions, transmitQueue, events, stunServers, triggeredQueue

    public var name: StaticString {
        switch self {
        case .localCandidates: return "local-candidates"
        case .remoteCandidates: return "remote-candidates"
        case .pairs: return "pairs"
        case .transactions: return "transactions"
        case .transmitQueue: return "transmit-queue"
        case .events: return "events"
        case .stunServers: return "stun-servers"
        case .triggeredQueue: return "triggered-queue"
        }
    }
}

public enum ICEError: Error, Equatable, Sendable {
    case tableFull(Table)
    /// Component outside 1...configured components.
    case invalidComponent
    /// The operation needs the remote ufrag/pwd first.
    case noRemoteCredentials
    /// A candidate with an address family or transport the agent cannot use.
    case unsupportedCandidate
    /// A candidate address no check may be sent to: unspecified, multicast, broadcast, port 0,
    /// or loopback when the agent has no loopback base.
    case forbiddenAddress

    public var reasonText: String {
        switch self {
        case .tableFull(let t): return "table full: " + t.name.description
        case .invalidComponent: return "invalid component"
        case .noRemoteCredentials: return "no remote credentials"
        case .unsupportedCandidate: return "unsupported transport or address family"
        case .forbiddenAddress: return "address never checked (unspecified, multicast, broadcast, port 0, or loopback)"
        }
    }
}
