import ICE
import NetworkSimulator

// What the simulator tests expect of the simulated network.

extension NATType {
    /// All nine mapping x filtering combinations (RFC 4787 §4.1, §5).
    static let allCombinations: [NATType] = NATBehavior.allCases.flatMap { m in
        NATBehavior.allCases.map { f in NATType(mapping: m, filtering: f) }
    }
}

extension NATPlacement {
    static let matrix: [NATPlacement] = allCases

    /// Whether two ICE agents at these placements, using only host and server-reflexive
    /// candidates (no TURN) and learning peer-reflexive candidates from incoming checks,
    /// can form a direct pair. A symmetric NAT opens a fresh port for each peer, which only
    /// gets through to a peer whose NAT does not filter on port: so symmetric against
    /// port-restricted or symmetric needs a relay.
    static func directConnectivityExpected(_ a: NATPlacement, _ b: NATPlacement) -> Bool {
        func bad(_ x: NATPlacement, _ y: NATPlacement) -> Bool {
            x == .symmetric && (y == .symmetric || y == .portRestrictedCone)
        }
        return !bad(a, b) && !bad(b, a)
    }
}

extension Scenario {
    var bothFailed: Bool { left.agent.state == .failed && right.agent.state == .failed }
}
