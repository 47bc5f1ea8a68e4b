import Common
import ICE
import NetworkSimulator
import Testing

/// The RFC 4787 NAT matrix on the simulated network: each side open or behind a full-cone,
/// restricted-cone, port-restricted-cone or symmetric NAT, one STUN server, no TURN.
@Suite struct NATMatrixTests {
    /// What ICE must achieve: the selected pair's types at the left agent, or failure where
    /// only a relay could help (symmetric against port-restricted or symmetric).
    static func expected(_ l: NATPlacement, _ r: NATPlacement) -> String {
        guard NATPlacement.directConnectivityExpected(l, r) else { return "failed" }
        func type(_ p: NATPlacement) -> String { p == .open ? "host" : p == .symmetric ? "prflx" : "srflx" }
        return "\(type(l))/\(type(r))"
    }

    static let cells: [(NATPlacement, NATPlacement)] = NATPlacement.matrix.flatMap { l in NATPlacement.matrix.map { (l, $0) } }

    func outcome(_ l: NATPlacement, _ r: NATPlacement) -> (String, Instant) {
        let s = Scenario(left: l, right: r, seed: 42)
        s.start()
        _ = s.network.runUntil(timeout: .seconds(60)) { s.bothCompleted || s.bothFailed }
        if s.bothFailed { return ("failed", s.network.now) }
        guard s.bothCompleted else { return ("stuck: \(s.left.agent.state.name)/\(s.right.agent.state.name)", s.network.now) }
        // Both ends must agree on the path: left's local is right's remote and vice versa.
        let a = s.left.selected!, b = s.right.selected!
        guard a.local.address == b.remote.address || a.local.type == .peerReflexive || b.remote.type == .peerReflexive else {
            return ("mismatch", s.network.now)
        }
        return (s.left.selectedTypes, s.network.now)
    }

    @Test func matrix() {
        var table = "left \\ right        " + NATPlacement.matrix.map { pad($0.description, 20) }.joined() + "\n"
        var failures: [String] = []
        for l in NATPlacement.matrix {
            var row = pad(l.description, 20)
            for r in NATPlacement.matrix {
                let (got, at) = outcome(l, r)
                let want = Self.expected(l, r)
                let ms = at.nanoseconds / 1_000_000
                row += pad("\(got) \(got == "failed" ? "" : "\(ms)ms")\(got == want ? "" : " !=\(want)")", 20)
                if got != want { failures.append("\(l) vs \(r): got \(got), expected \(want)") }
            }
            table += row + "\n"
        }
        print("NAT matrix (selected pair types at the left agent, virtual time to completed):\n" + table)
        #expect(failures.isEmpty, "\(failures)")
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
