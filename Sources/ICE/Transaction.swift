import Common
import STUN

/// An outstanding STUN transaction of the agent.
struct Transaction {
    enum Kind {
        /// A connectivity check on a pair (RFC 8445 §7.2.4), nominating if `useCandidate`.
        case check(pair: PairID, useCandidate: Bool)
        /// Server-reflexive gathering from a host base to a STUN server (RFC 8445 §5.1.1.2).
        case gather(base: TransportAddress, server: TransportAddress)
        /// A consent freshness check on a component's selected pair (RFC 7675).
        case consent(component: UInt8, pair: PairID)
    }

    var id: TransactionID
    var kind: Kind
    var timer: Retransmission
    /// Gathering transactions wait for the pacer before their first send.
    var started: Bool
    /// The role the request was sent with (a 487 only flips the role once, RFC 8445 §7.2.5.1).
    var role: Role
    /// First transmission, for round-trip measurement.
    var firstSent: Instant = .zero
    /// Sent once more, out of its schedule, because the peer's check on the same pair showed
    /// the path open (see `Agent.checkReceived`); at most once per transaction.
    var hurried = false

    var isGathering: Bool {
        if case .gather = kind { return true }
        return false
    }
}
