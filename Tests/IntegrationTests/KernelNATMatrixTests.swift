import Foundation
import TestSupport
import Testing

/// The call matrix on real kernel NATs: `ice-agent call` (the doorbell) behind each of the five
/// `KernelNATKind`s against `ice-agent answer` (the home) behind each of the five, signaling over
/// stdio, DTLS-SRTP media both ways; once with a STUN server only and once with coturn as well.
/// One lab holds a doorbell site and a home site of every kind; the cells run concurrently on it
/// (each agent has its own ports, so its own NAT mappings).
@Suite(.serialized) struct KernelNATMatrixTests {
    static let stunAddress = "198.51.100.10"
    static let turnAddress = "198.51.100.20"
    /// Each agent's `--duration`: the bound within which a connecting cell completes and streams,
    /// and within which a failing cell must not complete. Checks are retransmitted at 0, 0.5,
    /// 1.5, 3.5 and 7.5 s (RFC 8489 §6.2.1 with RFC 8445 §14.3's 500 ms RTO): five sends per pair.
    static let seconds = 8
    /// RTP packets each side's camera sends, one per 20 ms, once both sides are keyed.
    static let packets = 100

    /// The doorbell's selected pair, "local/remote" candidate types, per cell; rows are the
    /// doorbell's NAT, columns the home's, in `KernelNATKind.allCases` order. The home's pair is
    /// the mirror image. RFC 8445 §7.2.5.3.1: a valid pair's local candidate is the one whose
    /// address is the mapped address of the check's response. In the open that is the host
    /// candidate. Behind an endpoint-independent mapping (RFC 4787 §4.1: full cone, address-
    /// and port-restricted) the peer sees the external port the STUN server saw: srflx. Behind
    /// the symmetric NAT (address-and-port-dependent mapping) the peer sees a port no server
    /// saw: prflx, never srflx. "srflx" here also admits "prflx", the same address learned the
    /// other way round: a check answered before the STUN response (local), or a peer's check
    /// arriving before the trickle line of its srflx candidate (remote, RFC 8445 §7.3.1.3).
    ///
    /// Without TURN: an address-and-port-dependent mapping facing address-and-port-dependent
    /// filtering (port-restricted or symmetric) has no pair whose checks pass: the symmetric
    /// side's checks leave from a port its peer never sent to, and its peer's checks go to a
    /// port the symmetric NAT opened for the STUN server only. Symmetric against address-
    /// restricted connects on this lab, every time, in both roles: the address-restricted side
    /// checks the symmetric side's srflx candidate (dropped by the symmetric NAT's filter), which
    /// opens its address-dependent filter to the symmetric NAT's IP address, any port (RFC 4787
    /// §5); the symmetric NAT maps every flow to that one address (RFC 4787 §4.1 "paired"
    /// pooling, REQ-2), so the symmetric side's check from its new port passes once that
    /// happened (at worst on a retransmission, RFC 8445 §14.3) and its response returns through
    /// the mapping the check made.
    /// A symmetric NAT with a pool of addresses ("arbitrary" pooling) would fail this cell.
    static let withoutTURN: [[String]] = [
        // open          fullCone       addressRestricted  portRestricted  symmetric
        ["host/host",   "host/srflx",  "host/srflx",      "host/srflx",   "host/prflx"],   // open
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",  "srflx/prflx"],  // fullCone
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",  "srflx/prflx"],  // addressRestricted
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",  "fails"],        // portRestricted
        ["prflx/host",  "prflx/srflx", "prflx/srflx",     "fails",        "fails"],        // symmetric
    ]

    /// With TURN every cell connects. The three that cannot connect directly use a relayed
    /// candidate on one side against the other side's reflexive one: the TURN server's
    /// permission is per IP address (RFC 8656 §9), so it admits the symmetric side from any
    /// port, and the relay's packets come from the address the non-symmetric side sent to.
    /// Which side's relay wins is a race between the two relayed pairs ("a|b": either); relay/
    /// relay, lower in priority, is checked after them (RFC 8445 §6.1.4.2) and never wins.
    /// Symmetric against address-restricted is admitted on a relay too: the direct pair needs
    /// the peer-reflexive address that the symmetric side's check brings once the restricted
    /// side's own check has opened its filter (RFC 4787 §5), a retransmission later. The agent
    /// waits for its better pairs' first retransmission before it nominates a relay (RFC 8445
    /// §8.1.1), which covers it in the runs seen here (16 of 16 cells direct), but the
    /// peer-reflexive pair does not exist while it waits, so nothing guarantees it (13 of 30
    /// runs ended on the relay before the agent waited).
    static let withTURN: [[String]] = [
        // open          fullCone       addressRestricted  portRestricted               symmetric
        ["host/host",   "host/srflx",  "host/srflx",      "host/srflx",                "host/prflx"],                // open
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",               "srflx/prflx"],               // fullCone
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",               "srflx/prflx|relay/prflx"],   // addressRestricted
        ["srflx/host",  "srflx/srflx", "srflx/srflx",     "srflx/srflx",               "srflx/relay|relay/prflx"],   // portRestricted
        ["prflx/host",  "prflx/srflx", "prflx/srflx|prflx/relay", "prflx/relay|relay/srflx", "prflx/relay|relay/prflx"], // symmetric
    ]

    /// The pair types a table entry admits for the doorbell (nil: the cell fails). With TURN
    /// a direct entry admits no relay: a direct pair whose first check the peer's filter
    /// dropped (it had not sent towards us yet) succeeds on its retransmission 500 ms later,
    /// and a relayed pair that passed at once (TURN permissions are per IP address, RFC 8656
    /// §9) waits for it before it may be nominated.
    static func admitted(_ entry: String, turn: Bool) -> [String]? {
        guard entry != "fails" else { return nil }
        func widen(_ type: Substring) -> [String] { type == "srflx" ? ["srflx", "prflx"] : [String(type)] }
        var pairs: [String] = []
        for alternative in entry.split(separator: "|") {
            let t = alternative.split(separator: "/")
            for l in widen(t[0]) { for r in widen(t[1]) { pairs.append(l + "/" + r) } }
        }
        return pairs
    }

    static func mirrored(_ pair: String) -> String {
        pair.split(separator: "/").reversed().joined(separator: "/")
    }

    @Test func matrixWithoutTURN() throws {
        try runMatrix(turn: false)
    }

    @Test func matrixWithTURN() throws {
        try runMatrix(turn: true)
    }

    func runMatrix(turn: Bool) throws {
        let agent = try iceAgentPath()
        _ = try requireTool("python3", install: "apt-get install -y python3")
        let turnserver = turn ? try requireTool("turnserver", install: "apt-get install -y coturn") : ""
        let began = Date()
        let lab = try MatrixLab(name: turn ? "mt" : "mn", servers: [Self.stunAddress] + (turn ? [Self.turnAddress] : []))
        defer { lab.tearDown() }
        try lab.start(agent: agent, stun: Self.stunAddress, turn: turn ? (turnserver, Self.turnAddress) : nil)
        let ready = Date()

        // Each side its own DTLS identity, fresh per run (concurrent first starts are safe: each
        // writes a temporary file and renames it), beside the cameras' start files.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("matrix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var options = ["--stun", "\(Self.stunAddress):3478"]
        if turn { options += ["--turn", "turn:\(Self.turnAddress):3478", "--turn-user", "test:secret"] }
        var cells: [MatrixCell] = []
        defer { for c in cells { c.stop() } }
        for (i, d) in lab.doorbellSites.enumerated() {
            for (j, h) in lab.homeSites.enumerated() {
                cells.append(try MatrixCell(number: i * 5 + j, doorbell: d, home: h, lab: lab, scratch: scratch.path,
                                            doorbellOptions: options + ["--identity", scratch.path + "/doorbell.pem"],
                                            homeOptions: options + ["--identity", scratch.path + "/home.pem"]))
            }
        }
        // Until every agent ended by itself; one still running after that hangs.
        let deadline = Date().addingTimeInterval(TimeInterval(Self.seconds + 15))
        while Date() < deadline && cells.contains(where: { !$0.ended }) {
            for c in cells { try c.poll(packets: Self.packets) }
            usleep(50_000)
        }
        for c in cells { c.finish() }
        let wall = Date().timeIntervalSince(began)

        var markdown = "| doorbell \\ home | " + KernelNATKind.allCases.map(\.description).joined(separator: " | ") + " |\n"
        markdown += "|---|" + String(repeating: "---|", count: KernelNATKind.allCases.count) + "\n"
        for (i, d) in KernelNATKind.allCases.enumerated() {
            markdown += "| \(d) |"
            for j in KernelNATKind.allCases.indices {
                let c = cells[i * 5 + j]
                markdown += " " + (c.completed ? c.doorbellPair?.types ?? "?" : "fails") + " |"
            }
            markdown += "\n"
        }
        print("KernelNATMatrixTests \(turn ? "with" : "without") TURN: lab ready in \(String(format: "%.1f", ready.timeIntervalSince(began))) s, "
            + "all done in \(String(format: "%.1f", wall)) s; the doorbell's selected pair (local/remote):\n" + markdown)
        for c in cells { print(c.summary) }

        let table = turn ? Self.withTURN : Self.withoutTURN
        for (n, c) in cells.enumerated() {
            let cell = "\(c.doorbell.kind) doorbell, \(c.home.kind) home, \(turn ? "with" : "without") TURN"
            #expect(c.endedByItself, "\(cell): an agent was still running \(Self.seconds + 15) s in\n\(c.logs)")
            guard let admitted = Self.admitted(table[n / 5][n % 5], turn: turn) else {
                // No pair can pass (see `withoutTURN`): neither side may ever select one, and
                // both end by themselves at --duration with exit 3 (ICE never connected).
                #expect(!c.completed && !c.doorbellLog.contains("doorbell: selected ") && !c.homeLog.contains("home: selected ")
                            && !c.doorbellLog.contains("ICE connected") && !c.homeLog.contains("ICE connected"),
                        "\(cell): a pair was selected\n\(c.logs)")
                #expect(c.doorbellStatus == 3 && c.homeStatus == 3, "\(cell): exit \(c.doorbellStatus)/\(c.homeStatus)\n\(c.logs)")
                continue
            }
            #expect(c.completed, "\(cell): did not complete and key SRTP within \(Self.seconds) s\n\(c.logs)")
            guard c.completed else { continue }
            guard let door = c.doorbellPair, let home = c.homePair else {
                Issue.record("\(cell): no nominated pair logged\n\(c.logs)")
                continue
            }
            #expect(admitted.contains(door.types), "\(cell): doorbell selected \(door.types), want one of \(admitted)\n\(c.logs)")
            #expect(admitted.map(Self.mirrored).contains(home.types),
                    "\(cell): home selected \(home.types), want one of \(admitted.map(Self.mirrored))\n\(c.logs)")
            // RFC 8445 §8.1.1: both agents select the same pair; each side's local candidate
            // address is what the other side sees as the remote one (host, mapped or relayed).
            #expect(door.local == home.remote && door.remote == home.local,
                    "\(cell): doorbell \(door.local) -> \(door.remote), home \(home.local) -> \(home.remote)\n\(c.logs)")
            // Each address belongs where its type says: the host's own address, its NAT's
            // public address, or the TURN server's.
            for (address, type, site) in [(door.local, door.localType, c.doorbell), (door.remote, door.remoteType, c.home)] {
                let ip = type == "host" ? site.hostAddress : type == "relay" ? Self.turnAddress : site.publicAddress
                #expect(address.hasPrefix(ip + ":"), "\(cell): \(type) candidate \(address) is not on \(ip)\n\(c.logs)")
            }
            // RTP both ways through DTLS-SRTP: nearly every packet of each camera reaches the
            // other side's --rtp-out.
            #expect(c.doorbellReceived >= Self.packets * 9 / 10 && c.homeReceived >= Self.packets * 9 / 10,
                    "\(cell): doorbell received \(c.doorbellReceived), home \(c.homeReceived) of \(Self.packets)\n\(c.logs)")
            #expect(c.doorbellStatus == 0 && c.homeStatus == 0, "\(cell): exit \(c.doorbellStatus)/\(c.homeStatus)\n\(c.logs)")
        }
    }
}

/// A `KernelInternet` with a doorbell site and a home site of every kind, a STUN server and,
/// optionally, coturn on the internet's loopback.
final class MatrixLab {
    let net: KernelInternet
    private(set) var doorbellSites: [KernelNATSite] = []
    private(set) var homeSites: [KernelNATSite] = []
    private var servers: [Background] = []
    private var coturnLog: String?

    init(name: String, servers addresses: [String]) throws {
        net = try KernelInternet(name: name, serverAddresses: addresses)
        do {
            for k in KernelNATKind.allCases { doorbellSites.append(try net.addSite(k)) }
            for k in KernelNATKind.allCases { homeSites.append(try net.addSite(k)) }
            try net.exec(net.internet, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
            // The sites' private addresses lead nowhere, silently: a veth whose peer is down.
            // Without a route, coturn's relayed sendto() to a peer's private host candidate
            // fails and it closes the whole allocation.
            try net.exec(net.internet, ["ip", "link", "add", "void0", "type", "veth", "peer", "name", "void1"])
            try net.exec(net.internet, ["ip", "link", "set", "void0", "up"])
            try net.exec(net.internet, ["ip", "route", "add", "10.0.0.0/8", "dev", "void0"])
        } catch {
            net.tearDown()
            throw error
        }
    }

    /// `ice-agent stun server` on `stun`:3478 and, with `turn`, coturn on its address:3478 with
    /// the arguments of `startCoturn` (long-term credentials test:secret).
    func start(agent: String, stun: String, turn: (path: String, address: String)?) throws {
        let (path, arguments) = net.command(in: net.internet, [agent, "stun", "server", "--listen", "\(stun):3478"])
        let server = try Background(path, arguments)
        servers.append(server)
        guard waitUntil({ server.output.contains("STUN server listening") }) else {
            throw TestFailure("the STUN server did not start: \(server.output)")
        }
        guard let turn else { return }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("coturn-\(UUID().uuidString).log").path
        coturnLog = log
        let (cPath, cArguments) = net.command(in: net.internet, [
            turn.path, "-n", "--listening-ip=\(turn.address)", "--relay-ip=\(turn.address)", "--listening-port=3478",
            "--min-port=49152", "--max-port=49651", "--no-dtls", "--no-cli", "--no-tls",
            "--lt-cred-mech", "--user=test:secret", "--realm=example.org",
            "--log-file=\(log)", "--simple-log", "-v",
        ])
        let coturn = try Background(cPath, cArguments)
        servers.append(coturn)
        let (sPath, sArguments) = net.command(in: net.internet, [agent, "stun", "client", "\(turn.address):3478", "--rto", "50", "--retries", "2"])
        guard waitUntil(timeout: 10, { (try? run(sPath, sArguments))?.status == 0 }) else {
            throw TestFailure("turnserver did not start: \(coturn.output)\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
    }

    func tearDown() {
        for s in servers { s.stop() }
        servers.removeAll()
        if let coturnLog { try? FileManager.default.removeItem(atPath: coturnLog) }
        net.tearDown()
    }

    deinit { tearDown() }
}

/// One cell: the two agents cross-wired over stdio in their sites' hosts, and, once both are
/// keyed, a camera-and-speaker on each side (python3: RTP into --rtp-in, counting --rtp-out).
final class MatrixCell {
    let doorbell: KernelNATSite
    let home: KernelNATSite
    let agents: CrossWiredAgents
    let lab: MatrixLab
    let ports: (doorbellIn: Int, doorbellOut: Int, homeIn: Int, homeOut: Int)
    let go: String
    let started = Date()
    private(set) var completedIn: TimeInterval?
    private(set) var media: (doorbell: Background, home: Background)?
    private(set) var ended = false
    private(set) var endedByItself = false
    private(set) var doorbellLog = "", homeLog = ""
    private(set) var doorbellStatus: Int32 = -1, homeStatus: Int32 = -1
    private(set) var doorbellReceived = 0, homeReceived = 0

    /// `scratch`: a directory for the file that starts both cameras at once.
    init(number: Int, doorbell: KernelNATSite, home: KernelNATSite, lab: MatrixLab, scratch: String,
         doorbellOptions: [String], homeOptions: [String]) throws {
        go = scratch + "/go-\(number)"
        self.doorbell = doorbell
        self.home = home
        self.lab = lab
        let base = 20_000 + 10 * number
        ports = (base, base + 1, base + 2, base + 3)
        let common = ["--signal", "stdio", "--interface", "h0", "--duration", "\(KernelNATMatrixTests.seconds)", "--log-level", "info"]
        agents = try CrossWiredAgents(
            answer: common + homeOptions + ["--rtp-in", "127.0.0.1:\(ports.homeIn)", "--rtp-out", "127.0.0.1:\(ports.homeOut)"],
            call: common + doorbellOptions + ["--rtp-in", "127.0.0.1:\(ports.doorbellIn)", "--rtp-out", "127.0.0.1:\(ports.doorbellOut)"],
            answerNamespace: home.host, callNamespace: doorbell.host)
    }

    var completed: Bool { completedIn != nil }

    static let ready = ["ICE completed", "media: DTLS-SRTP keyed"]

    /// Starts the media once both sides completed ICE and keyed SRTP; notes when both agents ended.
    func poll(packets: Int) throws {
        guard !ended else { return }
        if media == nil {
            let d = agents.log(of: agents.call), h = agents.log(of: agents.answer)
            if Self.ready.allSatisfy({ d.contains("doorbell: " + $0) && h.contains("home: " + $0) }) {
                completedIn = Date().timeIntervalSince(started)
                let dm = try camera(in: doorbell.host, into: ports.doorbellIn, outOf: ports.doorbellOut, packets: packets)
                media = (dm, try camera(in: home.host, into: ports.homeIn, outOf: ports.homeOut, packets: packets))
            }
        } else if let media, !FileManager.default.fileExists(atPath: go),
                  media.doorbell.output.contains("bound") && media.home.output.contains("bound") {
            // Both speakers listen: the cameras may start.
            _ = FileManager.default.createFile(atPath: go, contents: nil)
        }
        if !agents.call.isRunning && !agents.answer.isRunning {
            ended = true
            endedByItself = true
        }
    }

    /// Collects statuses, logs and media counts; kills what still runs.
    func finish() {
        if let media {
            _ = waitUntil(timeout: 5) { !media.doorbell.process.isRunning && !media.home.process.isRunning }
            doorbellReceived = Self.count(media.doorbell.output)
            homeReceived = Self.count(media.home.output)
        }
        doorbellLog = agents.log(of: agents.call)
        homeLog = agents.log(of: agents.answer)
        if endedByItself {
            doorbellStatus = agents.call.terminationStatus
            homeStatus = agents.answer.terminationStatus
        }
        stop()
        ended = true
    }

    func stop() {
        media?.doorbell.stop()
        media?.home.stop()
        agents.stop()
    }

    var logs: String { "--- doorbell\n\(doorbellLog)--- home\n\(homeLog)" }

    var doorbellPair: SelectedPair? { SelectedPair(last: doorbellLog, of: "doorbell") }
    var homePair: SelectedPair? { SelectedPair(last: homeLog, of: "home") }

    var summary: String {
        func side(_ p: SelectedPair?, _ log: String, _ name: String, _ received: Int) -> String {
            "\(name) \(p.map { "\($0.local) -> \($0.remote) (\($0.types))" } ?? "-"), "
                + "\(SelectedPair.nominations(log, of: name)) nominated, \(received) RTP in"
        }
        return "\(doorbell.kind) -> \(home.kind): " + (completedIn.map { String(format: "completed and keyed in %.2f s", $0) } ?? "not completed")
            + "; " + side(doorbellPair, doorbellLog, "doorbell", doorbellReceived) + "; " + side(homePair, homeLog, "home", homeReceived)
            + "; exit \(doorbellStatus)/\(homeStatus)"
    }

    static func count(_ output: String) -> Int {
        output.split(separator: "\n").last { $0.hasPrefix("received ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? -1
    }

    /// Binds `rtpOut` and says "bound"; once the `go` file exists, RTP (version 2, PT 96,
    /// sequence numbers 0...) into `rtpIn` every 20 ms, counting the distinct packets of that
    /// form arriving on `rtpOut` until 1 s after the last; prints "received N".
    func camera(in ns: String, into rtpIn: Int, outOf rtpOut: Int, packets: Int) throws -> Background {
        let script = """
            import os, socket, sys, time
            rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rx.bind(("127.0.0.1", \(rtpOut)))
            rx.setblocking(False)
            print("bound", flush=True)
            tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            seen = set()
            def drain():
                while True:
                    try:
                        d = rx.recv(2048)
                    except BlockingIOError:
                        return
                    # What the other camera sent, byte for byte (SRTP undone).
                    if len(d) == 112 and d[:2] == bytes([0x80, 96]) and d[4:] == bytes(108):
                        seen.add(d[2] << 8 | d[3])
            # Bounded: an orphan (the test killed) must not poll for ever.
            start = time.time()
            while not os.path.exists("\(go)"):
                if time.time() > start + 20:
                    sys.exit("no go file")
                time.sleep(0.01)
            for i in range(\(packets)):
                tx.sendto(bytes([0x80, 96, i >> 8, i & 255]) + bytes(8) + bytes(100), ("127.0.0.1", \(rtpIn)))
                drain()
                time.sleep(0.02)
            end = time.time() + 1
            while time.time() < end:
                drain()
                time.sleep(0.01)
            print("received", len(seen), flush=True)
            """
        let (path, arguments) = lab.net.command(in: ns, ["/usr/bin/python3", "-c", script])
        return try Background(path, arguments)
    }
}

/// The last nominated pair an agent logged: "NAME: selected LOCAL -> REMOTE (ltype/rtype) nominated".
struct SelectedPair {
    let local: String
    let remote: String
    let localType: String
    let remoteType: String
    var types: String { localType + "/" + remoteType }

    init?(last log: String, of name: String) {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("\(name): selected ") && $0.hasSuffix(" nominated") }) else {
            return nil
        }
        let words = line.split(separator: " ")
        guard let at = words.firstIndex(of: "selected"), words.count > at + 4, words[at + 2] == "->" else { return nil }
        let types = words[at + 4].trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: "/")
        guard types.count == 2 else { return nil }
        local = String(words[at + 1])
        remote = String(words[at + 3])
        localType = String(types[0])
        remoteType = String(types[1])
    }

    /// How many times the agent logged a newly nominated pair.
    static func nominations(_ log: String, of name: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("\(name): selected ") && $0.hasSuffix(" nominated") }.count
    }
}
