/// RFC 4787 §4.1 mapping behaviour as measured by RFC 5780 §4.3, plus "no NAT" (the mapped
/// address is one of the client's own, §4.3 test I).
public enum MappingBehavior: Equatable, Sendable {
    case noNAT
    case endpointIndependent
    case addressDependent
    case addressAndPortDependent

    /// Stable kebab-case name for JSON and logs.
    public var name: StaticString {
        switch self {
        case .noNAT: return "no-nat"
        case .endpointIndependent: return "endpoint-independent"
        case .addressDependent: return "address-dependent"
        case .addressAndPortDependent: return "address-and-port-dependent"
        }
    }

    /// RFC 4787 abbreviation ("EIM"); no NAT maps like an endpoint-independent one.
    public var abbreviation: StaticString {
        switch self {
        case .noNAT, .endpointIndependent: return "EIM"
        case .addressDependent: return "ADM"
        case .addressAndPortDependent: return "APDM"
        }
    }
}

/// RFC 4787 §5 filtering behaviour as measured by RFC 5780 §4.4.
public enum FilteringBehavior: Equatable, Sendable {
    case endpointIndependent
    case addressDependent
    case addressAndPortDependent

    public var name: StaticString {
        switch self {
        case .endpointIndependent: return "endpoint-independent"
        case .addressDependent: return "address-dependent"
        case .addressAndPortDependent: return "address-and-port-dependent"
        }
    }

    public var abbreviation: StaticString {
        switch self {
        case .endpointIndependent: return "EIF"
        case .addressDependent: return "ADF"
        case .addressAndPortDependent: return "APDF"
        }
    }
}

/// RFC 5780 §4.5 / RFC 4787 REQ-9 hairpinning.
public enum Hairpinning: Equatable, Sendable {
    /// A request sent to the other local socket's mapped address arrived.
    case supported
    /// Neither request arrived: the NAT does not hairpin, or its filtering dropped the
    /// hairpinned packet (an address-and-port-dependent mapping defeats the test).
    case notObserved
    /// Not run: disabled, no NAT, or the run's time bound came first.
    case notTested

    public var name: StaticString {
        switch self {
        case .supported: return "supported"
        case .notObserved: return "not-observed"
        case .notTested: return "not-tested"
        }
    }
}
