/// Why a datagram did not arrive.
public enum DropKind: Hashable, Sendable, CustomStringConvertible {
    case loss, natFiltering, noRoute, noListener, blocked

    public var description: String {
        switch self {
        case .loss: return "lost"
        case .natFiltering: return "NAT-filtered"
        case .noRoute: return "no route"
        case .noListener: return "no listener"
        case .blocked: return "blocked"
        }
    }
}

public struct NetworkCounters: Equatable, Sendable, CustomStringConvertible {
    public var sent = 0
    public var delivered = 0
    public var droppedLoss = 0
    public var droppedNATFiltering = 0
    public var droppedNoRoute = 0
    public var droppedNoListener = 0
    public var droppedBlocked = 0

    public init(sent: Int = 0, delivered: Int = 0, droppedLoss: Int = 0, droppedNATFiltering: Int = 0,
                droppedNoRoute: Int = 0, droppedNoListener: Int = 0, droppedBlocked: Int = 0) {
        self.sent = sent
        self.delivered = delivered
        self.droppedLoss = droppedLoss
        self.droppedNATFiltering = droppedNATFiltering
        self.droppedNoRoute = droppedNoRoute
        self.droppedNoListener = droppedNoListener
        self.droppedBlocked = droppedBlocked
    }

    var dropped: Int { droppedLoss + droppedNATFiltering + droppedNoRoute + droppedNoListener + droppedBlocked }
    /// Datagrams still on their way.
    var inFlight: Int { sent - delivered - dropped }

    public var description: String {
        "sent \(sent), delivered \(delivered), lost \(droppedLoss), NAT-filtered \(droppedNATFiltering), "
            + "no route \(droppedNoRoute), no listener \(droppedNoListener), blocked \(droppedBlocked)"
    }
}
