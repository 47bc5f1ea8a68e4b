import NATBehavior
import Testing

/// The RFC 3489 names for each RFC 4787 mapping and filtering pair.
@Suite struct ClassificationTests {
    @Test func everyPairHasItsClassicName() {
        let filterings: [FilteringBehavior] = [.endpointIndependent, .addressDependent, .addressAndPortDependent]
        let expected: [(MappingBehavior, [NATClassification])] = [
            (.noNAT, [.openInternet, .firewall, .firewall]),
            (.endpointIndependent, [.fullCone, .restrictedCone, .portRestrictedCone]),
            (.addressDependent, [.symmetric, .symmetric, .symmetric]),
            (.addressAndPortDependent, [.symmetric, .symmetric, .symmetric]),
        ]
        for (mapping, names) in expected {
            for (filtering, name) in zip(filterings, names) {
                #expect(NATClassification(mapping: mapping, filtering: filtering) == name, "\(mapping) \(filtering)")
            }
        }
    }

    @Test func onlyAddressAndPortDependentPairsNeedARelay() {
        // The pairs that fail without TURN on real NATs (kernel-nat notes, the NAT matrix):
        // symmetric against port-restricted or symmetric.
        for c in [NATClassification.symmetric] { #expect("\(c.advice)".contains("TURN relay")) }
        for c in [NATClassification.openInternet, .fullCone, .restrictedCone, .portRestrictedCone] {
            #expect(!"\(c.advice)".contains("TURN relay"), "\(c)")
        }
        #expect("\(NATClassification.portRestrictedCone.advice)" == "direct connections need the peer to be cone or open")
    }
}
