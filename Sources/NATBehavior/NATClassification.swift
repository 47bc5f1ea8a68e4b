/// The classic RFC 3489 names for a mapping and filtering pair, with what they mean for a
/// direct (non-relayed) ICE connection (RFC 8445 §2.2, RFC 4787 §4.1).
public enum NATClassification: Equatable, Sendable {
    /// No NAT and no filtering of unsolicited inbound UDP.
    case openInternet
    /// No NAT, but a firewall filters like an address(-and-port)-restricted NAT.
    case firewall
    /// EIM, EIF.
    case fullCone
    /// EIM, ADF.
    case restrictedCone
    /// EIM, APDF.
    case portRestrictedCone
    /// Any address(-and-port)-dependent mapping: the peer sees a new port per destination.
    case symmetric

    public init(mapping: MappingBehavior, filtering: FilteringBehavior) {
        switch (mapping, filtering) {
        case (.noNAT, .endpointIndependent): self = .openInternet
        case (.noNAT, _): self = .firewall
        case (.endpointIndependent, .endpointIndependent): self = .fullCone
        case (.endpointIndependent, .addressDependent): self = .restrictedCone
        case (.endpointIndependent, .addressAndPortDependent): self = .portRestrictedCone
        case (.addressDependent, _), (.addressAndPortDependent, _): self = .symmetric
        }
    }

    public var name: StaticString {
        switch self {
        case .openInternet: return "open"
        case .firewall: return "firewall"
        case .fullCone: return "full-cone"
        case .restrictedCone: return "restricted-cone"
        case .portRestrictedCone: return "port-restricted-cone"
        case .symmetric: return "symmetric"
        }
    }

    /// For people: the name with spaces.
    public var label: StaticString {
        switch self {
        case .openInternet: return "open internet"
        case .firewall: return "filtering firewall"
        case .fullCone: return "full cone"
        case .restrictedCone: return "restricted cone"
        case .portRestrictedCone: return "port-restricted cone"
        case .symmetric: return "symmetric"
        }
    }

    /// What this means for direct connectivity, from RFC 4787 §4.1 and §5 and what real NATs
    /// do (ICE RFC 8445 §2.2 hole punching): an address-and-port-dependent mapping gives the
    /// peer a port it never learned, which only an open or endpoint-independent filter lets in;
    /// an address-dependent filter lets it in only when the peer's NAT keeps the IP.
    public var advice: StaticString {
        switch self {
        case .openInternet, .fullCone: return "direct connections work with any peer"
        case .firewall: return "direct connections work with cone and open peers; a symmetric peer may need a TURN relay"
        case .restrictedCone: return "direct connections work with any peer but, at times, a symmetric one"
        case .portRestrictedCone: return "direct connections need the peer to be cone or open"
        case .symmetric:
            return "direct connections need the peer to be open or full cone (restricted cone: at times); otherwise a TURN relay"
        }
    }
}
