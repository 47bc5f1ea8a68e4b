import Foundation
import TestSupport
import Testing

/// The `ice-agent` option parser as a user meets it: `COMMAND --help` from the one table, one
/// line and exit 2 for a mistake, and the config file going through the same table.
@Suite struct CommandLineTests {
    /// Every command, with one option its help must list.
    static let commands: [([String], String)] = [
        (["call"], "--token-file FILE"), (["answer"], "--gather-wait MS"), (["demo"], "--seconds N"),
        (["rtp", "send"], "--to ADDR:PORT"), (["rtp", "receive"], "--listen ADDR:PORT"), (["status"], "--socket PATH"),
        (["turn", "allocate"], "--server URI|HOST:PORT"), (["stun", "decode"], "--long-term USER:REALM:PASSWORD"),
        (["stun", "server"], "--alternate ADDR:PORT"), (["stun", "client"], "--print-hex"),
    ]

    @Test(arguments: commands) func helpListsTheCommandsOptions(words: [String], option: String) throws {
        let r = try run(try iceAgentPath(), words + ["--help"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("usage: ice-agent " + words.joined(separator: " ") + " "), "\(r.stdout)")
        #expect(r.stdout.contains("\n  " + option), "\(r.stdout)")
        #expect(r.stderr.isEmpty)
    }

    @Test func configKeysAreListedInCallHelp() throws {
        let r = try run(try iceAgentPath(), ["answer", "--help"])
        #expect(r.stdout.contains("config file keys"))
        for key in ["url", "turn-user-file", "max-session-seconds", "on-button", "log-level", "log-timestamps"] {
            #expect(r.stdout.contains(" " + key), "\(key): \(r.stdout)")
        }
    }

    /// `--log-timestamps`: every line starts with the wall-clock time it was written, which a
    /// reader timestamping lines on arrival would see late.
    @Test func logTimestampsStartEveryLineWithTheWallClock() throws {
        let before = Date().timeIntervalSince1970
        let r = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--log-timestamps", "--duration", "1",
                                             "--allow-loopback", "--interface", "lo", "--media-security", "none"], stdin: "")
        let after = Date().timeIntervalSince1970
        let lines = r.stderr.split(separator: "\n")
        #expect(!lines.isEmpty, "\(r.stderr)")
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 2)
            #expect(fields.count == 3 && fields[1] == "ice-agent" && fields[2].hasPrefix("["), "\(line)")
            let time = fields.first.map(String.init) ?? ""
            let parts = time.split(separator: ".")
            #expect(parts.count == 2 && parts[1].count == 6, "\(line)")
            let t = Double(time) ?? 0
            #expect(t >= before - 0.001 && t <= after + 0.001, "\(line) outside \(before)...\(after)")
        }
    }

    @Test func mistakesAreOneLineAndExitTwo() throws {
        let agent = try iceAgentPath()
        for (args, line) in [
            (["call", "--foo"], "ice-agent call: unknown option --foo (see ice-agent call --help)"),
            (["stun", "server", "--listen"], "ice-agent stun server: --listen needs a value (ADDR:PORT) (see ice-agent stun server --help)"),
            (["stun", "client", "127.0.0.1:9", "127.0.0.1:10"], "ice-agent stun client: unexpected argument: 127.0.0.1:10 (see ice-agent stun client --help)"),
            (["rtp", "play"], "ice-agent rtp: unknown command play (send, receive) (see ice-agent rtp --help)"),
            (["nonsense"], "ice-agent: unknown command: nonsense (see ice-agent --help)"),
            (["demo", "--seconds", "0"], "ice-agent demo: --seconds takes 1..3600 (see ice-agent demo --help)"),
        ] {
            let r = try run(agent, args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr == line + "\n", "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func overviewStillListsEveryCommand() throws {
        let r = try run(try iceAgentPath(), ["--help"])
        #expect(r.status == 0)
        for c in Self.commands { #expect(r.stdout.contains(c.0.joined(separator: " ") + " "), "\(c.0)") }
    }

    /// The overview is generated from the tables `COMMAND --help` prints: each command's entry
    /// in `ice-agent --help` names every option of that command.
    @Test func overviewEntryNamesEveryOptionOfItsCommand() throws {
        let agent = try iceAgentPath()
        let overview = try run(agent, ["--help"]).stdout
        for (words, _) in Self.commands {
            let heading = "\n  ice-agent " + words.joined(separator: " ") + " "
            let start = try #require(overview.range(of: heading), "\(words): \(overview)")
            let entry = overview[start.upperBound...].components(separatedBy: "\n  ice-agent ")[0]
            let help = try run(agent, words + ["--help"]).stdout
            let options = help.split(separator: "\n").filter { $0.hasPrefix("  --") }.map { String($0.dropFirst(2).split(separator: " ")[0]) }
            #expect(options.count >= 2, "\(words): \(help)")
            for option in options where option != "--help" {
                #expect(entry.contains(option + " ") || entry.contains(option + "]"), "\(words) \(option): \(entry)")
            }
        }
    }

    /// The config file applies first and the command line after it: a config value is used
    /// unless the command line gives the option again.
    @Test func commandLineOverridesTheConfigFile() throws {
        let agent = try iceAgentPath()
        let conf = NSTemporaryDirectory() + "cli-\(getpid()).conf"
        defer { try? FileManager.default.removeItem(atPath: conf) }
        try "media = audio\npayload-type = 111\nrtpmap = opus/48000/2\nallow-loopback = yes\ninterface = lo\nduration = 1\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let fromFile = try run(agent, ["answer", "--config", conf, "--signal", "stdio"], timeout: 10)
        #expect(fromFile.stdout.contains("\r\nm=audio ") && fromFile.stdout.contains("a=rtpmap:111 opus/48000/2"), "\(fromFile.stdout)")
        let overridden = try run(agent, ["answer", "--config", conf, "--signal", "stdio", "--media", "video"], timeout: 10)
        #expect(overridden.stdout.contains("\r\nm=video ") && overridden.stdout.contains("/RTP/SAVPF 111\r\n"), "\(overridden.stdout)")
        // A key that is not an option of answer is refused naming its line.
        try "duration = 1\nseconds = 3\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let bad = try run(agent, ["answer", "--config", conf, "--signal", "stdio"])
        #expect(bad.status == 2 && bad.stderr.contains("line 2: unknown key \"seconds\""), "\(bad.stderr)")
    }
}
