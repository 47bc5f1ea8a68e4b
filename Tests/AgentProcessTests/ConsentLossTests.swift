import Foundation
import TestSupport
import Testing

/// RFC 7675 on real processes: when the peer stops answering (here: frozen with SIGSTOP, as a
/// peer that lost power looks from outside), the survivor declares the call failed within the
/// consent timeout, stops its media and exits 3, whichever side it is.
@Suite struct ConsentLossTests {
    enum Frozen { case home, doorbell }

    func survivorExits(whenFrozen frozen: Frozen) throws -> (status: Int32, seconds: Double, log: String) {
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "90", "--log-level", "info"]
        let agents = try CrossWiredAgents(answer: common, call: common + ["--rtp-in", "127.0.0.1:\(freeUDPPort())"])
        defer { agents.stop() }
        let (victim, survivor) = frozen == .home ? (agents.answer, agents.call) : (agents.call, agents.answer)
        let log = { agents.log(of: survivor) }
        #expect(waitUntil(timeout: 10) { log().contains("ICE completed") }, "\(log())")
        kill(victim.processIdentifier, SIGSTOP)
        let cut = Date()
        _ = waitUntil(timeout: 45) { !survivor.isRunning }
        let seconds = Date().timeIntervalSince(cut)
        kill(victim.processIdentifier, SIGKILL)
        guard !survivor.isRunning else { return (-1, seconds, log()) }
        return (survivor.terminationStatus, seconds, log())
    }

    @Test func doorbellEndsTheCallWhenTheHomeStopsAnswering() throws {
        let r = try survivorExits(whenFrozen: .home)
        #expect(r.status == 3, "\(r.log)")
        // The last consent response came at most ~6 s before the cut; expiry is 30 s after it.
        #expect(r.seconds >= 20 && r.seconds <= 33, "\(r.seconds) s")
        #expect(r.log.contains("ICE failed"), "\(r.log)")
    }

    @Test func homeOverStdioEndsWhenTheDoorbellStopsAnswering() throws {
        let r = try survivorExits(whenFrozen: .doorbell)
        #expect(r.status == 3, "\(r.log)")
        #expect(r.seconds >= 20 && r.seconds <= 33, "\(r.seconds) s")
        #expect(r.log.contains("ICE failed"), "\(r.log)")
    }
}
