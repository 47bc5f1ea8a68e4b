import Foundation
import TestSupport
import Testing

/// `interop/network_bench.py --runs 1` (what `ice-bench network` runs) against the built
/// ice-agent: a call between kernel NATs in network namespaces whose doorbell gets a new
/// address, loses its link for 3 s, or has its symmetric NAT's mappings flushed; each must
/// resume its media within its goal. Needs root, iproute2, nftables and conntrack.
@Suite(.serialized) struct NetworkBenchTests {
    /// A new DHCP lease (RFC 8445 §9 restart on the rtnetlink notification), and a flushed
    /// symmetric NAT (the next consent check's XOR-MAPPED-ADDRESS, RFC 7675 §5.1, every 4-6 s).
    @Test func addressChangeAndNATFlushResumeMedia() throws {
        try requirePrerequisites()
        let out = try bench(["address", "flush"], limit: 40)
        expectRecovered(out, "address change", goalMs: 2000)
        expectRecovered(out, "conntrack flush", goalMs: 8000)
    }

    /// The LAN link down for 3 s, its addresses kept, the default route put back with it: the
    /// doorbell keeps its sockets and pair while it has no usable address, and media resumes on
    /// the same pair when the link is back.
    @Test func linkFlapResumesMedia() throws {
        try requirePrerequisites()
        let out = try bench(["flap"], limit: 25)
        expectRecovered(out, "link flap", goalMs: 2000)
    }

    /// A missing tool fails the test with its install command (outside any known issue).
    func requirePrerequisites() throws {
        guard geteuid() == 0 else { throw TestFailure("network namespaces need root: run the system lane as root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw TestFailure("/usr/bin/python3 is not installed: run `apt-get install python3` (or scripts/install-deps)")
        }
        _ = try requireTool("ip", install: "apt-get install -y iproute2")
        _ = try requireTool("nft", install: "apt-get install -y nftables")
        _ = try requireTool("conntrack", install: "apt-get install -y conntrack")
    }

    /// The script's stdout, with its exit status checked; stderr (the logs of a failed run) in
    /// that failure's message.
    func bench(_ scenarios: [String], limit: TimeInterval) throws -> String {
        let python = "/usr/bin/python3"
        let script = repoRoot.appendingPathComponent("interop/network_bench.py").path
        let (status, out, err) = try runTerminating(python, [script, "--runs", "1", "--only", scenarios.joined(separator: ","),
                                                             "--ice-agent", try iceAgentPath()], limit: limit)
        if status == 2 { throw TestFailure("network_bench.py: a tool is missing: \(err)") }
        #expect(status == 0, "network_bench.py exited \(status)\n\(out)\n\(err)")
        return out
    }

    /// The summary line `<title> -> media resumed: median X ms, max Y ms of 1 ...` with X under
    /// the goal.
    func expectRecovered(_ output: String, _ title: String, goalMs: Double) {
        let line = output.split(separator: "\n").first { $0.hasPrefix(title + " -> media resumed: median ") }
        let median = line.flatMap { l in
            l.range(of: #"median [0-9.]+ ms"#, options: .regularExpression).flatMap { Double(l[$0].split(separator: " ")[1]) }
        }
        #expect(median != nil, "no `\(title) -> media resumed: median N ms` line\n\(output)")
        if let median { #expect(median > 0 && median < goalMs, "\(title): media resumed after \(median) ms (goal < \(goalMs) ms)\n\(output)") }
    }

    /// Runs to completion; past `limit` the script gets SIGTERM (it removes its namespaces),
    /// then SIGKILL, by PID. Output goes to files: a chatty run cannot block on a pipe.
    func runTerminating(_ path: String, _ arguments: [String], limit: TimeInterval) throws -> (Int32, String, String) {
        let tmp = FileManager.default.temporaryDirectory, id = UUID().uuidString
        let outURL = tmp.appendingPathComponent("netbench-\(id).out"), errURL = tmp.appendingPathComponent("netbench-\(id).err")
        defer { for u in [outURL, errURL] { try? FileManager.default.removeItem(at: u) } }
        for u in [outURL, errURL] { _ = FileManager.default.createFile(atPath: u.path, contents: nil) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        var deadline = Date().addingTimeInterval(limit)
        var timedOut = false
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            timedOut = true
            kill(p.processIdentifier, SIGTERM)
            deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if timedOut { throw TestFailure("network_bench.py did not finish in \(Int(limit)) s\n\(out)\n\(err)") }
        return (p.terminationStatus, out, err)
    }
}
