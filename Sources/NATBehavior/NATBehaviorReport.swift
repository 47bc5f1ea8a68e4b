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

    public var classification: NATClassification { NATClassification(mapping: mapping, filtering: filtering) }
}

/// Where a run stands.
public enum DiscoveryOutcome: Equatable, Sendable {
    case running
    case determined(NATBehaviorReport)
    case failed(NATDiscoveryError)
}
