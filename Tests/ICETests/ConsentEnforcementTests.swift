import Common
import ICE
import ICEHarness
import Testing

/// RFC 7675 in both roles, before and after nomination: media goes only where consent is
/// fresh, and a peer that is gone is declared failed within the consent timeout.
@Suite struct ConsentEnforcementTests {
    /// Two agents run until `side` has a valid pair that is not nominated yet: the moment
    /// between the first answered check and the nomination.
    func validNotNominated(seed: UInt64, side: Role) throws -> (TestAgent, TestAgent, DirectLink<SeededRandom>) {
        let a = try agent(seed, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(seed + 1, .controlled, hosts: ["192.0.2.2:6000"])
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        let watched = side == .controlling ? a : b
        #expect(link.run(until: .zero + .seconds(5)) { watched.selectedPair() != nil })
        #expect(watched.selectedPair()?.nominated == false && watched.state == .connected)
        return (a, b, link)
    }

    @Test func controlledSideFailsWhenThePeerVanishesBeforeNomination() throws {
        let (a, b, link) = try validNotNominated(seed: 53, side: .controlled)
        let cut = link.now
        a.close()
        #expect(link.run(until: cut + .seconds(60)) { b.state == .failed })
        #expect(link.now - cut <= .seconds(30))
        // RFC 7675 §5.1: no more media on the pair once consent expired.
        #expect(b.selectedPair() == nil)
    }

    @Test func controllingSideFailsWhenThePeerVanishesBeforeNomination() throws {
        let (a, b, link) = try validNotNominated(seed: 55, side: .controlling)
        let cut = link.now
        b.close()
        #expect(link.run(until: cut + .seconds(60)) { a.state == .failed })
        #expect(link.now - cut <= .seconds(30))
        #expect(a.selectedPair() == nil)
    }

    @Test func mediaStopsWhenConsentIsLostAfterNomination() throws {
        let a = try agent(57, .controlling, hosts: ["192.0.2.1:5000"])
        let b = try agent(58, .controlled, hosts: ["192.0.2.2:6000"])
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed })
        #expect(a.selectedPair()?.nominated == true)
        let cut = link.now
        b.close()
        #expect(link.run(until: cut + .seconds(15)) { a.state == .disconnected })
        // Disconnected is not expired: media may still go while consent can come back.
        #expect(a.selectedPair() != nil)
        #expect(link.run(until: cut + .seconds(60)) { a.state == .failed })
        #expect(link.now - cut <= .seconds(30))
        #expect(a.selectedPair() == nil)
        // A restart after lost consent does not bring the stale pair back for media.
        a.restart(now: link.now)
        #expect(a.selectedPair() == nil)
    }

    @Test func remoteCandidatesNeverAimChecksAtNonPeers() throws {
        let a = try agent(59, .controlling, hosts: ["192.0.2.1:5000"])
        for text in ["0.0.0.0:9", "224.0.0.251:5353", "239.255.255.250:1900", "255.255.255.255:9", "192.0.2.9:0",
                     "127.0.0.1:22", "[::]:9", "[ff02::1]:9", "[::1]:22"] {
            let c = Candidate(type: .host, component: 1, priority: 1, foundation: Foundation("9"), address: TransportAddress(text)!)
            #expect(throws: ICEError.forbiddenAddress, "\(text)") { try a.addRemoteCandidate(c, now: .zero) }
        }
        #expect(a.remoteCandidates.isEmpty && a.candidatePairs.isEmpty)
        let loopbackAllowed = try agent(60, .controlling, hosts: ["127.0.0.1:5000"]) { $0.allowLoopback = true }
        let local = Candidate(type: .host, component: 1, priority: 1, foundation: Foundation("9"), address: TransportAddress("127.0.0.1:6000")!)
        try loopbackAllowed.addRemoteCandidate(local, now: .zero)
        #expect(loopbackAllowed.candidatePairs.count == 1)
    }
}
