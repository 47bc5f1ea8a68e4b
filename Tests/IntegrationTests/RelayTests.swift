import Foundation
import TestSupport
import Testing

/// ICE through TURN (RFC 8656) for real: two daemons that may only use relayed candidates
/// (`--relay-only`), each allocating on the same coturn, connect and stream RTP — the case
/// where both sides sit behind symmetric NATs.
@Suite(.serialized) struct RelayTests {
    @Test func relayOnlyCallStreamsThroughCoturn() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try streamOverStdio(extra: ["--turn", "turn:127.0.0.1:\(coturn.port)?transport=udp", "--turn-user", "test:secret",
                                            "--relay-only"])
        #expect(r.callStatus == 0 && r.answerStatus == 0, "\(r.callLog)\n\(r.answerLog)")
        for log in [r.callLog, r.answerLog] {
            #expect(log.contains("allocated 127.0.0.1:"), "\(log)")
            #expect(log.contains("(relay/relay) nominated"), "\(log)")
            #expect(!log.contains("ICE failed"), "\(log)")
        }
        #expect(r.received > r.sent / 2, "sent \(r.sent), received \(r.received)\n\(r.callLog)\n\(r.answerLog)")
        // Both allocations were released when the calls ended (Refresh with LIFETIME 0).
        #expect(waitUntil(timeout: 5) { coturn.log.components(separatedBy: "lifetime=0").count - 1 >= 2 }, "\(coturn.log.suffix(2000))")
    }

    @Test func badTURNOptionsAreUsageErrors() throws {
        let agent = try iceAgentPath()
        for (args, message) in [(["--turn", "turn:127.0.0.1:3478"], "--turn needs --turn-user"),
                                (["--relay-only"], "--relay-only needs a --turn server"),
                                (["--turn", "turns:127.0.0.1?transport=udp", "--turn-user", "a:b"], "TURN over DTLS, which is not supported"),
                                (["--turn", "turn:127.0.0.1?transport=sctp", "--turn-user", "a:b"], "unknown transport \"sctp\""),
                                (["--turn", "turn:::1", "--turn-user", "a:b"], "IPv6 addresses go in brackets"),
                                (["--turn", "stun:127.0.0.1", "--turn-user", "a:b"], "is a STUN URI"),
                                (["--stun", "stuns:127.0.0.1"], "stuns: cannot give a server-reflexive candidate"),
                                (["--stun", "stun:[::1"], "--stun stun:[::1: "),
                                (["--stun", "stun:no-such-host.invalid"], "cannot resolve --stun stun:no-such-host.invalid")] {
            let r = try run(agent, ["call", "--signal", "stdio"] + args)
            #expect(r.status == 2 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}
