import Foundation
import TestSupport
import Testing

/// RFC 7675 on real processes: when the peer stops answering (here: frozen with SIGSTOP, as a
/// peer that lost power looks from outside), the survivor ends the call, stops its media and
/// exits 3, whichever side it is: the home when consent expires, the doorbell when the ICE
/// restart it tries once consent is lost (RFC 8445 §9) gets no answer.
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
        // The last consent response came at most ~6 s before the cut; 10 s after it the
        // doorbell is disconnected and restarts ICE, which waits 10 s for the home's answer.
        #expect(r.seconds >= 13 && r.seconds <= 22, "\(r.seconds) s")
        #expect(r.log.contains("consent lost: restarting ICE") && r.log.contains("ICE restart: no answer from the peer"), "\(r.log)")
    }

    /// Over stdio the home can signal a restart too, and does so the same way.
    @Test func homeOverStdioEndsWhenTheDoorbellStopsAnswering() throws {
        let r = try survivorExits(whenFrozen: .doorbell)
        #expect(r.status == 3, "\(r.log)")
        #expect(r.seconds >= 13 && r.seconds <= 22, "\(r.seconds) s")
        #expect(r.log.contains("consent lost: restarting ICE") && r.log.contains("ICE restart: no answer from the peer"), "\(r.log)")
    }
}
