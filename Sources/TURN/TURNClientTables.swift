import Common
import STUN

// Not nested in the generic `TURNClient`: a nested type depends on its `R`, and code not
// specialized for it asks the runtime for the type's metadata on every access.

/// A permission for one peer IP (RFC 8656 §9).
struct TURNPermission {
    var ip: IPAddress
    /// Installed on the server (a success seen); false while the first request is pending.
    var installed = false
    var expiresAt: Instant? = nil
    var refreshAt: Instant? = nil
    var inFlight = false
}

/// A channel bound to one peer (RFC 8656 §12).
struct TURNChannel {
    var number: UInt16
    var peer: TransportAddress
    /// Confirmed by a ChannelBind success: ChannelData may be sent.
    var bound = false
    var refreshAt: Instant? = nil
    var inFlight = false
}

/// What a client transaction asks.
enum TURNRequestKind: Equatable {
    case allocate
    case refresh(lifetime: UInt32?)
    case createPermission(IPAddress)
    case channelBind(channel: UInt16, peer: TransportAddress)

    var method: Method {
        switch self {
        case .allocate: return .allocate
        case .refresh: return .refresh
        case .createPermission: return .createPermission
        case .channelBind: return .channelBind
        }
    }
}

/// One request in flight.
struct TURNTransaction {
    var id: TransactionID
    var kind: TURNRequestKind
    var timer: Retransmission
    /// Whether the request carries MESSAGE-INTEGRITY: then responses must too.
    var authenticated: Bool
    var staleRetries: Int
}
