import Common
import NATBehavior
import NetworkSimulator
import STUN
import Testing

/// RFC 5780 §4.3-4.5 against the simulator's RFC 4787 NATs: each kind must be reported as
/// what it is.
@Suite struct SimulatedNATTests {
    struct Case: CustomStringConvertible, Sendable {
        var type: NATType?
        var mapping: MappingBehavior
        var filtering: FilteringBehavior
        var hairpinning: Hairpinning
        var classification: NATClassification
        var description: String { type?.description ?? "open" }
    }

    static let cases: [Case] = [
        Case(type: nil, mapping: .noNAT, filtering: .endpointIndependent, hairpinning: .notTested,
             classification: .openInternet),
        Case(type: .fullCone, mapping: .endpointIndependent, filtering: .endpointIndependent, hairpinning: .supported,
             classification: .fullCone),
        Case(type: .restrictedCone, mapping: .endpointIndependent, filtering: .addressDependent, hairpinning: .supported,
             classification: .restrictedCone),
        Case(type: .portRestrictedCone, mapping: .endpointIndependent, filtering: .addressAndPortDependent,
             hairpinning: .supported, classification: .portRestrictedCone),
        // An APDM NAT gives the hairpinned request a fresh mapping its APDF filter refuses.
        Case(type: .symmetric, mapping: .addressAndPortDependent, filtering: .addressAndPortDependent,
             hairpinning: .notObserved, classification: .symmetric),
        Case(type: NATType(mapping: .addressDependent, filtering: .addressDependent), mapping: .addressDependent,
             filtering: .addressDependent, hairpinning: .notObserved, classification: .symmetric),
        Case(type: NATType(mapping: .addressAndPortDependent, filtering: .endpointIndependent),
             mapping: .addressAndPortDependent, filtering: .endpointIndependent, hairpinning: .supported,
             classification: .symmetric),
    ]

    @Test(arguments: cases)
    func reportsEachNATKind(_ c: Case) throws {
        let world = DiscoveryWorld(type: c.type)
        let report = try #require(world.run().report)
        #expect(report.mapping == c.mapping)
        #expect(report.filtering == c.filtering)
        #expect(report.hairpinning == c.hairpinning)
        #expect(report.classification == c.classification)
        #expect(report.otherAddress == DiscoveryWorld.alternate)
        if c.type != nil {
            #expect(report.mappedAddress.ip == ip("203.0.113.1"))
        } else {
            #expect(report.mappedAddress == addr("203.0.113.50:40000"))
        }
        #expect(world.client.discovery.droppedDatagrams == 0)
        #expect(world.client.discovery.nextDeadline == nil)
    }

    @Test func filteringTestsRunBeforeTheAlternateIsContacted() throws {
        // Mapping tests II/III open the NAT's filter to the alternate address, so a filtering
        // test after them would see every APDF NAT as EIF.
        let world = DiscoveryWorld(type: .portRestrictedCone)
        _ = try #require(world.run().report)
        let destinations = world.client.sent.map { $0.to }
        let firstToAlternateIP = try #require(destinations.firstIndex { $0.ip == DiscoveryWorld.alternate.ip })
        let changeRequests = world.client.sent.enumerated().filter { _, s in
            s.bytes.withUnsafeBytes { (try? Message(parsing: $0))?.contains(.changeRequest) ?? false }
        }
        #expect(!changeRequests.isEmpty)
        #expect(changeRequests.allSatisfy { $0.offset < firstToAlternateIP })
    }

    @Test func hairpinningOffNATIsNotObserved() throws {
        let world = DiscoveryWorld(type: .fullCone, hairpinning: false)
        let report = try #require(world.run().report)
        #expect(report.hairpinning == .notObserved)
        #expect(report.classification == .fullCone)
    }

    @Test func hairpinningTestCanBeDisabled() throws {
        let world = DiscoveryWorld(type: .fullCone) { $0.testHairpinning = false }
        let report = try #require(world.run().report)
        #expect(report.hairpinning == .notTested)
        #expect(!world.client.sent.contains { $0.socket == .socket1 })
    }

    @Test func serverWithoutAlternateLacksRFC5780() {
        let world = DiscoveryWorld(type: .portRestrictedCone, alternate: nil)
        #expect(world.run() == .failed(.serverLacksRFC5780))
        // One test I exchange is enough to know; nothing else is sent.
        #expect(world.client.sent.count == 1)
    }

    @Test func unreachableServerIsNoResponseWithinTheSchedule() {
        let world = DiscoveryWorld(type: .fullCone)
        world.network.blocked = { _, to, _ in to.ip == DiscoveryWorld.primary.ip }
        #expect(world.run() == .failed(.noResponse))
        // 4 sends: 250 + 500 + 1000 ms, then 4 x 250 ms (RFC 8489 §6.2.1 with the defaults).
        #expect(world.client.sent.count == 4)
        #expect(world.network.now == Instant.zero + .milliseconds(2750))

        // A time limit inside test I's schedule ends it the same way, at the limit.
        let short = DiscoveryWorld(type: .fullCone) { $0.timeLimit = .seconds(1) }
        short.network.blocked = { _, to, _ in to.ip == DiscoveryWorld.primary.ip }
        #expect(short.run() == .failed(.noResponse))
        #expect(short.network.now == Instant.zero + .seconds(1))
    }

    @Test func silentAlternateIsReportedAsSuch() {
        let world = DiscoveryWorld(type: .fullCone)
        world.network.blocked = { _, to, _ in to.ip == DiscoveryWorld.alternate.ip }
        #expect(world.run() == .failed(.alternateUnreachable))
    }

    @Test func timeLimitEndsTheRunWithWhatIsKnown() throws {
        // Symmetric: two silent filtering tests (2.75 s each) and a silent hairpin test.
        let world = DiscoveryWorld(type: .symmetric) { $0.timeLimit = .seconds(7) }
        let report = try #require(world.run().report)
        #expect(report.filtering == .addressAndPortDependent)
        #expect(report.mapping == .addressAndPortDependent)
        #expect(report.hairpinning == .notTested)
        #expect(world.network.now == Instant.zero + .seconds(7))

        let short = DiscoveryWorld(type: .symmetric) { $0.timeLimit = .seconds(3) }
        #expect(short.run() == .failed(.timedOut))
        #expect(short.network.now == Instant.zero + .seconds(3))
        #expect(short.client.discovery.nextDeadline == nil)
    }
}
