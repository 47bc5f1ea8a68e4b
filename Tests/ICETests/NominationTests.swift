import Common
import ICE
import NetworkSimulator
import Testing

/// Which pair the controlling agent nominates, and how many (RFC 8445 §8.1.1), on the
/// simulated network with a TURN server that both sides use.
@Suite struct NominationTests {
    /// A restricted cone against a symmetric NAT: the symmetric side's first check to the
    /// cone's server-reflexive address meets a filter its peer has not opened yet and is
    /// dropped, while its relayed pair passes at once (a TURN permission covers the peer's
    /// whole IP, RFC 8656 §9). The direct pair's retransmission must get its chance before the
    /// relay is nominated: no run may end on a relay.
    @Test func aDirectPairWhoseFirstCheckWasDroppedBeatsTheRelay() throws {
        var relayed: [String] = []
        for seed: UInt64 in 1...16 {
            for (left, right) in [(NATPlacement.restrictedCone, NATPlacement.symmetric), (.symmetric, .restrictedCone)] {
                let s = Scenario(left: left, right: right, seed: seed, relay: true)
                s.leftHost.link = .latency(.milliseconds(10))
                s.rightHost.link = .latency(.milliseconds(15))
                s.start()
                #expect(s.connect(), "seed \(seed) \(left)/\(right)")
                if s.left.selectedTypes.contains("relay") { relayed.append("seed \(seed) \(left)/\(right): \(s.left.selectedTypes)") }
            }
        }
        #expect(relayed.isEmpty, "\(relayed)")
    }

    /// However the checks race, the controlling agent nominates one pair per component and
    /// never another after it (RFC 8445 §8.1.1).
    @Test func oneNominationPerComponent() throws {
        for seed: UInt64 in 1...16 {
            for (left, right) in [(NATPlacement.restrictedCone, NATPlacement.symmetric), (.fullCone, .portRestrictedCone), (.open, .symmetric)] {
                let s = Scenario(left: left, right: right, seed: seed, relay: true)
                s.leftHost.link = .latency(.milliseconds(Int64(5 + seed % 7)))
                s.rightHost.link = .latency(.milliseconds(Int64(5 + seed % 5)))
                s.start()
                #expect(s.connect(), "seed \(seed) \(left)/\(right)")
                s.network.run(for: .seconds(3))
                let nominated = s.left.agent.candidatePairs.filter { $0.nominated }
                #expect(nominated.count == 1, "seed \(seed) \(left)/\(right): \(nominated.count) nominated pairs")
                var announced: [String] = []
                for (_, e) in s.left.log {
                    if case .selectedPair(_, let l, let r, true) = e { announced.append("\(l.address)->\(r.address)") }
                }
                #expect(Set(announced).count == 1, "seed \(seed) \(left)/\(right): \(announced)")
            }
        }
    }
}
