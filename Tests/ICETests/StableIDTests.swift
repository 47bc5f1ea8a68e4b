import Common
import ICE
import ICEHarness
import Testing

/// Candidates and pairs are named by ids that removals do not renumber: what refers to a pair
/// (a check in flight, the selected pair) still names it after an earlier entry goes.
@Suite struct StableIDTests {
    typealias A = Agent<SeededRandom>
    let host1 = TransportAddress("192.0.2.1:5000")!
    let host2 = TransportAddress("192.0.2.3:5002")!
    let peer = TransportAddress("192.0.2.2:6000")!

    func agent(_ role: Role, seed: UInt64) -> A {
        var c = AgentConfiguration()
        c.role = role
        return A(configuration: c, random: SeededRandom(seed: seed))
    }

    /// The first check goes to the second host's pair (the better one); it is in flight when
    /// the first host (earlier in every table) is removed: its response still makes that pair
    /// valid, and the pair keeps its id.
    @Test func aCheckInFlightSurvivesTheRemovalOfAnEarlierCandidate() throws {
        let a = agent(.controlling, seed: 11), b = agent(.controlled, seed: 12)
        try a.addHostCandidate(base: host1, localPreference: 100)
        try a.addHostCandidate(base: host2, localPreference: 200)
        try b.addHostCandidate(base: peer)
        let link = DirectLink(a, b)
        try link.exchangeCandidates()
        #expect(link.run(until: .zero + .seconds(1)) { a.counters.checksSent == 1 })
        let second = try #require(a.candidatePairs.first { a.localCandidates[$0.local].address == host2 })
        #expect(second.state == .inProgress && !second.valid)
        let secondLocalID = a.localCandidates[second.local].id
        let remoteIDs = a.remoteCandidates.map(\.id)

        #expect(a.removeLocalCandidate(host1, now: link.now))
        #expect(a.localCandidates.map(\.id) == [secondLocalID])
        #expect(a.remoteCandidates.map(\.id) == remoteIDs)
        let after = try #require(a.candidatePairs.first { $0.id == second.id })
        #expect(after.localID == secondLocalID && after.local == 0)
        #expect(a.localCandidates[after.local].address == host2 && a.remoteCandidates[after.remote].id == after.remoteID)
        #expect(after.state == .inProgress)

        // Within one round trip of the check sent before the removal: its own response.
        #expect(link.run(until: link.now + .milliseconds(20)) { a.candidatePairs.contains { $0.id == second.id && $0.valid } })
        #expect(link.run(until: link.now + .seconds(5)) { a.state == .completed && b.state == .completed })
        #expect(a.selectedPair()?.local.id == secondLocalID)
    }

    /// Ids are never handed out twice, across local and remote candidates and across a
    /// restart, so a stale reference can never name a newer entry.
    @Test func idsAreNeverReused() throws {
        let a = agent(.controlling, seed: 13)
        let local = try a.addHostCandidate(base: host1)
        a.setRemoteCredentials(ufrag: "abcd", password: "0123456789abcdef012345")
        let remote = Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation(number: 1), address: peer)
        #expect(remote.id == .unassigned)
        try a.addRemoteCandidate(remote, now: .zero)
        let firstRemote = try #require(a.remoteCandidates.first).id
        let firstPair = try #require(a.candidatePairs.first)
        #expect(local.id != .unassigned && firstRemote != .unassigned && local.id != firstRemote)
        #expect(a.localCandidates[0].id == local.id && firstPair.localID == local.id && firstPair.remoteID == firstRemote)

        a.restart(now: .zero)
        a.setRemoteCredentials(ufrag: "efgh", password: "0123456789abcdef012345")
        try a.addRemoteCandidate(remote, now: .zero)
        let secondRemote = try #require(a.remoteCandidates.first).id
        let secondPair = try #require(a.candidatePairs.first)
        #expect(secondRemote > firstRemote && secondRemote != local.id)
        #expect(secondPair.id > firstPair.id && secondPair.remoteID == secondRemote && secondPair.localID == local.id)
    }
}
