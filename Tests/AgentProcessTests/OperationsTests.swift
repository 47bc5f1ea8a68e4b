import Foundation
import TestSupport
import Testing

/// What an operator uses: the status socket, the pcap file, the configuration file.
@Suite(.serialized) struct OperationsTests {
    func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    @Test func statusPcapAndConfig() throws {
        let agent = try iceAgentPath()
        let conf = tempPath("home.conf"), sock = tempPath("status.sock"), pcap = tempPath("home.pcap")
        defer { for p in [conf, sock, pcap] { try? FileManager.default.removeItem(atPath: p) } }
        try "# home\nallow-loopback = true\ninterface = lo\nduration = 6\nstatus-socket = \(sock)\npcap = \(pcap)\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let port = UInt16.random(in: 40000...50000)
        let home = try Background(agent, ["answer", "--config", conf, "--listen", "127.0.0.1:\(port)"])
        defer { home.stop() }
        #expect(waitUntil { home.output.contains("listening on http://") }, "\(home.output)")
        let call = try Background(agent, ["call", "http://127.0.0.1:\(port)/", "--allow-loopback", "--interface", "lo", "--duration", "4"])
        defer { call.stop() }
        #expect(waitUntil { home.output.contains("home: ICE completed") }, "\(home.output)")
        let status = try run(agent, ["status", "--socket", sock])
        #expect(status.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.split(separator: "\n").first!.utf8)) as? [String: Any])
        #expect(json["state"] as? String == "completed" && json["role"] as? String == "controlled")
        #expect((json["selected"] as? [String: Any])?["nominated"] as? Bool == true)
        #expect((json["sockets"] as? [String: Any])?["truncated_datagrams"] as? Int == 0)
        // A datagram longer than the receive buffer is dropped whole and counted in the status.
        let local = try #require((json["selected"] as? [String: Any])?["local"] as? String)
        #expect(sendLoopback([UInt8](repeating: 0x80, count: 3000), to: local) == 3000)
        #expect(waitUntil {
            guard let r = try? run(agent, ["status", "--socket", sock]),
                  let j = try? JSONSerialization.jsonObject(with: Data(r.stdout.split(separator: "\n").first.map { Array($0.utf8) } ?? [])) as? [String: Any]
            else { return false }
            return (j["sockets"] as? [String: Any])?["truncated_datagrams"] as? Int == 1
        }, "\((try? run(agent, ["status", "--socket", sock]))?.stdout ?? "") \(local)")
        // The pcap starts with the classic magic and LINKTYPE_RAW, and holds STUN traffic.
        let data = try Data(contentsOf: URL(fileURLWithPath: pcap))
        #expect(data.count > 24 + 16 + 28 + 20)
        #expect(Array(data.prefix(4)) == [0xD4, 0xC3, 0xB2, 0xA1] && data[20] == 101)
        // No daemon: a clear error and exit 1.
        let none = try run(agent, ["status", "--socket", tempPath("nothing.sock")])
        #expect(none.status == 1 && none.stderr.contains("no daemon answers"))
    }

    @Test func badConfigurationsExitTwoNamingTheProblem() throws {
        let agent = try iceAgentPath()
        let conf = tempPath("bad.conf")
        defer { try? FileManager.default.removeItem(atPath: conf) }
        for (text, message) in [("stun = \n", "line 1: stun needs a value"), ("mystery = 1\n", "line 1: unknown key \"mystery\""),
                                ("# ok\nallow-loopback = maybe\n", "line 2: allow-loopback takes true or false"),
                                ("rtp-in = not-an-address\n", "not an ADDR:PORT")] {
            try text.write(toFile: conf, atomically: true, encoding: .utf8)
            let r = try run(agent, ["answer", "--config", conf, "--listen", "127.0.0.1:9"])
            #expect(r.status == 2, "\(text): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(text): \(r.stderr)")
        }
        let missing = try run(agent, ["call", "--config", "/nonexistent/ice.conf", "--signal", "stdio"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read config file"))
    }

    /// A board whose GPIO chip is missing (this host has none): logged, and the agent works on
    /// without LEDs. A board file that does not parse: exit 2 naming the line.
    @Test func boardWithoutChipRunsAndBadBoardFileExitsTwo() throws {
        let agent = try iceAgentPath()
        let board = repoRoot.appendingPathComponent("board/qemu-virt.board").path
        let r = try streamOverStdio(extra: ["--board", board])
        #expect(r.callStatus == 0 && r.answerStatus == 0, "\(r.callLog)")
        #expect(r.callLog.contains("running without status LEDs"), "\(r.callLog)")
        #expect(r.received > r.sent / 2)
        let bad = tempPath("bad.board")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        try "chip = gpiochip0\nled.green = GPIO17\nstate.connected = green:sparkle\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let e = try run(agent, ["call", "--signal", "stdio", "--board", bad])
        #expect(e.status == 2 && e.stderr.contains("line 3"), "\(e.stderr)")
    }
}
