import Common

/// What RFC 5780 behaviour discovery found.
public struct NATBehaviorReport: Equatable, Sendable {
    /// Test I's mapped address (XOR-MAPPED-ADDRESS of socket 0 towards the primary address).
    public var mappedAddress: TransportAddress
    /// The server's primary address, and the OTHER-ADDRESS it advertised (RFC 5780 §7.4).
    public var server: TransportAddress
    public var otherAddress: TransportAddress
    public var mapping: MappingBehavior
    public var filtering: FilteringBehavior
    public var hairpinning: Hairpinning
    /// RFC 5780 §4.6, when asked for.
    public var mappingLifetime: MappingLifetime?

    public var classification: NATClassification { NATClassification(mapping: mapping, filtering: filtering) }
}

/// Where a run stands.
public enum DiscoveryOutcome: Equatable, Sendable {
    case running
    case determined(NATBehaviorReport)
    case failed(NATDiscoveryError)
}

/// RFC 5780 §4.6: bounds on how long socket 0's mapping survived without traffic.
public struct MappingLifetime: Equatable, Sendable {
    /// The longest idle time after which the mapping still answered (nil: not even the first).
    public var aliveAfter: Interval?
    /// The idle time after which it was gone (nil: alive at the longest probed, or cut short
    /// by the time limit).
    public var goneAfter: Interval?

    public init(aliveAfter: Interval?, goneAfter: Interval?) {
        self.aliveAfter = aliveAfter
        self.goneAfter = goneAfter
    }
}
