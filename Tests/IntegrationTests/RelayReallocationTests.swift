import Foundation
import TestSupport
import Testing

/// A relay-only doorbell whose TURN server restarts mid-call: the lost allocation's candidate
/// leaves the agent, a new allocation replaces it, and media flows again through the new relayed
/// address within seconds (the home learns it as peer-reflexive), instead of being sent into the
/// dead allocation until consent expires 30 s later.
@Suite(.serialized) struct RelayReallocationTests {
    @Test func mediaResumesThroughANewAllocationAfterTheTURNServerRestarts() throws {
        var coturn = try startCoturn()
        let turnPort = coturn.port
        defer { coturn.stop() }
        let sink = UDPCounter()
        defer { sink.stop() }
        let rtpIn = freeUDPPort()
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "45", "--log-level", "info"]
        // Over TCP, the allocation is lost with the connection (RFC 8656 §3.1): at once.
        let agents = try CrossWiredAgents(
            answer: common + ["--rtp-out", "127.0.0.1:\(sink.port)"],
            call: common + ["--rtp-in", "127.0.0.1:\(rtpIn)", "--relay-only",
                            "--turn", "turn:127.0.0.1:\(turnPort)?transport=tcp", "--turn-user", "test:secret"])
        defer { agents.stop() }
        let (answer, call) = (agents.answer, agents.call)
        func callOutput() -> String { agents.log(of: call) }
        func logs() -> String { callOutput() + "\n---- home ----\n" + agents.log(of: answer) }

        let camera = RTPCamera(port: rtpIn)
        defer { camera.stop() }

        let start = Date()
        #expect(waitUntil(timeout: 10) { callOutput().contains("doorbell: ICE completed") && sink.count(since: start) > 20 }, "\(logs())")
        coturn.stop()
        #expect(waitUntil(timeout: 5) { callOutput().contains("relayed candidate 127.0.0.1:") && callOutput().contains(" withdrawn") },
                "\(logs())")
        coturn = try startCoturn(port: turnPort)
        #expect(waitUntil(timeout: 15) { callOutput().components(separatedBy: "allocated 127.0.0.1:").count - 1 >= 2 }, "\(logs())")
        let reallocated = Date()
        // Media through the new relay, well before the 30 s a dead pair's consent would take.
        #expect(waitUntil(timeout: 8) { sink.count(since: reallocated.addingTimeInterval(0.5)) > 50 },
                "received \(sink.count(since: reallocated)) since the new allocation\n\(logs())")
        #expect(!callOutput().contains("ICE failed"), "\(logs())")
        #expect(call.isRunning && answer.isRunning, "\(logs())")
    }
}
