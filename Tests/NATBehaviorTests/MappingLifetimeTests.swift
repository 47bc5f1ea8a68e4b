import Common
import NATBehavior
import NetworkSimulator
import STUN
import Testing

/// RFC 5780 §4.6 against simulated NATs whose idle mappings expire after a known time.
@Suite struct MappingLifetimeTests {
    @Test func offByDefault() throws {
        let world = DiscoveryWorld(type: .portRestrictedCone, bindingTimeout: .seconds(30))
        let report = try #require(world.run().report)
        #expect(report.mappingLifetime == nil)
        #expect(!world.client.sent.contains { s in
            s.bytes.withUnsafeBytes { (try? Message(parsing: $0))?.contains(.responsePort) ?? false }
        })
    }

    @Test(arguments: [NATType.fullCone, .portRestrictedCone, .symmetric])
    func boundsTheBindingTimeout(_ type: NATType) throws {
        // Idle 5, 10, 20 s survive a 30 s binding timeout; 40 s does not.
        let world = DiscoveryWorld(type: type, bindingTimeout: .seconds(30)) {
            $0.lifetime = LifetimeProbe(first: .seconds(5), longest: .seconds(120))
            $0.timeLimit = .seconds(600)
        }
        let report = try #require(world.run(limit: .seconds(600)).report)
        #expect(report.mappingLifetime == MappingLifetime(aliveAfter: .seconds(20), goneAfter: .seconds(40)))
        // The classification is unchanged by the extra traffic.
        #expect(report.classification == NATClassification(mapping: type == .symmetric ? .addressAndPortDependent : .endpointIndependent,
                                                           filtering: type == .fullCone ? .endpointIndependent : .addressAndPortDependent))
    }

    @Test func stopsAtTheLongestIdleTime() throws {
        let world = DiscoveryWorld(type: .restrictedCone, bindingTimeout: .seconds(300)) {
            $0.lifetime = LifetimeProbe(first: .seconds(5), longest: .seconds(60))
            $0.timeLimit = .seconds(600)
        }
        let report = try #require(world.run(limit: .seconds(600)).report)
        #expect(report.mappingLifetime == MappingLifetime(aliveAfter: .seconds(40), goneAfter: nil))
        // Idle rounds 5 + 10 + 20 + 40 s plus the tests: well under two minutes.
        #expect(world.network.now < Instant.zero + .seconds(120))
    }

    @Test func shorterThanTheFirstIdleTime() throws {
        let world = DiscoveryWorld(type: .portRestrictedCone, bindingTimeout: .seconds(3)) {
            $0.lifetime = LifetimeProbe(first: .seconds(5), longest: .seconds(60))
        }
        let report = try #require(world.run().report)
        #expect(report.mappingLifetime == MappingLifetime(aliveAfter: nil, goneAfter: .seconds(5)))
    }

    @Test func theTimeLimitStillHolds() throws {
        // Full cone: the tests take under a second, then idle rounds of 5 and 10 s fit in 20 s;
        // the 20 s round is cut short and the report keeps what the others showed.
        let world = DiscoveryWorld(type: .fullCone, bindingTimeout: .seconds(300)) {
            $0.lifetime = LifetimeProbe(first: .seconds(5), longest: .seconds(1800))
            $0.timeLimit = .seconds(20)
        }
        let report = try #require(world.run(limit: .seconds(600)).report)
        #expect(world.network.now == Instant.zero + .seconds(20))
        #expect(report.mappingLifetime == MappingLifetime(aliveAfter: .seconds(10), goneAfter: nil))
    }

    @Test func noNATHasNoLifetimeToMeasure() throws {
        let world = DiscoveryWorld(type: nil) { $0.lifetime = LifetimeProbe() }
        let report = try #require(world.run().report)
        #expect(report.mapping == .noNAT)
        #expect(report.mappingLifetime == nil)
    }
}
