import Foundation
import TestSupport
import Testing

/// `ice-agent nat-type` against `ice-agent stun server` on loopback: no NAT between them, so
/// RFC 5780 must report no NAT and endpoint-independent filtering, and its exit status must
/// tell scripts what happened.
@Suite(.serialized) struct NatTypeCLITests {
    /// A server on 127.0.0.1:P, with its RFC 5780 alternate on 127.0.0.2:Q when asked.
    func server(alternate: Bool) throws -> (Background, UInt16, UInt16) {
        let port = freeUDPPort()
        let other = freeUDPPort()
        var arguments = ["stun", "server", "--listen", "127.0.0.1:\(port)"]
        if alternate { arguments += ["--alternate", "127.0.0.2:\(other)"] }
        let s = try Background(try iceAgentPath(), arguments)
        #expect(waitUntil { s.output.contains("STUN server listening") }, "\(s.output)")
        return (s, port, other)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func loopbackIsOpenInternetInJSON() throws {
        let (s, port, other) = try server(alternate: true)
        defer { s.stop() }
        let r = try run(try iceAgentPath(), ["nat-type", "--stun", "127.0.0.1:\(port)", "--json"], timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try json(r.stdout)
        #expect(out["result"] as? String == "determined")
        #expect(out["mapping"] as? String == "no-nat")
        #expect(out["filtering"] as? String == "endpoint-independent")
        #expect(out["nat_type"] as? String == "open")
        #expect(out["other_address"] as? String == "127.0.0.2:\(other)")
        #expect(out["server"] as? String == "127.0.0.1:\(port)")
        #expect((out["mapped_address"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(r.stdout.split(separator: "\n").count == 1)
        // RFC 5780 §4.6 is off by default, and with no NAT there is no mapping to time anyway.
        #expect(out["lifetime_alive_s"] == nil)
        let withLifetime = try run(try iceAgentPath(), ["nat-type", "--stun", "127.0.0.1:\(port)", "--json", "--lifetime", "5"],
                                   timeout: 30)
        #expect(withLifetime.status == 0)
        #expect(try json(withLifetime.stdout)["lifetime_alive_s"] == nil)
    }

    @Test func textHasOneLinePerBehaviourAndAVerdict() throws {
        let (s, port, _) = try server(alternate: true)
        defer { s.stop() }
        let r = try run(try iceAgentPath(), ["nat-type", "--stun", "stun:127.0.0.1:\(port)"], timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("mapping: no NAT") }, "\(r.stdout)")
        #expect(lines.contains("filtering: endpoint-independent (EIF)"), "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("hairpinning: ") }, "\(r.stdout)")
        #expect(lines.last == "NAT type: open internet (no NAT, EIF) — direct connections work with any peer", "\(r.stdout)")
    }

    @Test func serverWithoutAlternateExits3() throws {
        let (s, port, _) = try server(alternate: false)
        defer { s.stop() }
        let r = try run(try iceAgentPath(), ["nat-type", "--stun", "127.0.0.1:\(port)", "--json"], timeout: 30)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        let out = try json(r.stdout)
        #expect(out["result"] as? String == "failed")
        #expect(out["error"] as? String == "server-lacks-rfc5780")
        let text = try run(try iceAgentPath(), ["nat-type", "--stun", "127.0.0.1:\(port)"], timeout: 30)
        #expect(text.status == 3)
        #expect(text.stdout.isEmpty)
        #expect(text.stderr.contains("does not support RFC 5780"), "\(text.stderr)")
    }

    @Test func silentServerExits1WithinTheTimeout() throws {
        // A bound UDP socket that never answers.
        let (fd, port) = bindLoopback(Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        let start = Date()
        let r = try run(try iceAgentPath(), ["nat-type", "--stun", "127.0.0.1:\(port)", "--timeout", "1", "--json"], timeout: 10)
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(try json(r.stdout)["error"] as? String == "no-response")
        #expect(elapsed >= 0.9 && elapsed < 3, "took \(elapsed) s")
    }

    /// A running call asks its --stun server for the NAT's behaviour after its own setup,
    /// and the status report carries the verdict (no NAT on loopback); a server without RFC
    /// 5780 support is reported as such, and `--no-nat-type` leaves the report out.
    @Test func runningCallReportsTheNATTypeInItsStatus() throws {
        let (s, port, other) = try server(alternate: true)
        defer { s.stop() }
        let (plain, plainPort, _) = try server(alternate: false)
        defer { plain.stop() }
        func status(_ sock: String) -> [String: Any]? {
            guard let r = try? run(try iceAgentPath(), ["status", "--socket", sock]), r.status == 0 else { return nil }
            return try? JSONSerialization.jsonObject(with: Data((r.stdout.split(separator: "\n").first ?? "").utf8)) as? [String: Any]
        }
        let sockets = (0..<3).map { FileManager.default.temporaryDirectory.appendingPathComponent("nat-status-\($0)-\(UUID().uuidString).sock").path }
        defer { for p in sockets { try? FileManager.default.removeItem(atPath: p) } }
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "6", "--log-level", "info"]
        let launched = Date()
        let agents = try CrossWiredAgents(answer: common + ["--stun", "127.0.0.1:\(plainPort)", "--status-socket", sockets[1]],
                                          call: common + ["--stun", "127.0.0.1:\(port)", "--status-socket", sockets[0]])
        defer { agents.stop() }
        // No peer comes (stdin ends), and --duration keeps it running to be asked.
        let quiet = try Background(try iceAgentPath(), ["call", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "5",
                                                        "--stun", "127.0.0.1:\(port)", "--no-nat-type", "--status-socket", sockets[2]])
        defer { quiet.stop() }
        // Pending for the first 2 s (the call's setup has the loop), then decided.
        let early = try #require(waitUntil(timeout: 3) { status(sockets[0]) != nil } ? status(sockets[0]) : nil)
        if Date().timeIntervalSince(launched) < 1.5 {
            #expect((early["nat"] as? [String: Any])?["result"] as? String == "pending", "\(early)")
        }
        #expect(waitUntil(timeout: 6) { (status(sockets[0])?["nat"] as? [String: Any])?["result"] as? String == "determined" },
                "\(status(sockets[0]) ?? [:])\n\(agents.log(of: agents.call))")
        let nat = try #require(status(sockets[0])?["nat"] as? [String: Any])
        #expect(nat["mapping"] as? String == "no-nat" && nat["nat_type"] as? String == "open", "\(nat)")
        #expect(nat["filtering"] as? String == "endpoint-independent" && nat["server"] as? String == "127.0.0.1:\(port)", "\(nat)")
        #expect(agents.log(of: agents.call).contains("doorbell: NAT behaviour: open internet"), "\(agents.log(of: agents.call))")
        #expect(waitUntil(timeout: 3) { (status(sockets[1])?["nat"] as? [String: Any])?["result"] as? String == "failed" })
        #expect((status(sockets[1])?["nat"] as? [String: Any])?["error"] as? String == "server-lacks-rfc5780")
        let off = try #require(status(sockets[2]), "\(quiet.output)")
        #expect(off["nat"] == nil && off["state"] != nil, "\(off)")
        _ = other
    }

    @Test func usageMistakesExit2() throws {
        for (arguments, message) in [
            (["nat-type"], "ice-agent nat-type: nat-type needs --stun HOST[:PORT] (see ice-agent nat-type --help)"),
            (["nat-type", "--stun", "127.0.0.1", "--timeout", "0"],
             "ice-agent nat-type: --timeout takes 1..3600 s (see ice-agent nat-type --help)"),
            (["nat-type", "--stun", "127.0.0.1", "--lifetime", "4"],
             "ice-agent nat-type: --lifetime takes 5..1800 s (see ice-agent nat-type --help)"),
        ] {
            let r = try run(try iceAgentPath(), arguments)
            #expect(r.status == 2)
            #expect(r.stderr == message + "\n", "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        let help = try run(try iceAgentPath(), ["nat-type", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("3 the server does not\nsupport RFC 5780"), "\(help.stdout)")
    }
}
