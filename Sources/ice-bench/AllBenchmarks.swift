import CLinux
import Runtime

// `ice-bench all`: every benchmark, each in a process of its own (allocation counters, event
// loops and CPU clocks start clean), its output shown as it runs; then one table of the
// headline figures, each beside the peer measured in the same run and their ratio.

/// One benchmark run as `ice-bench SUITE ARGS`, and what it printed.
struct SuiteRun {
    let suite: String
    var output: [Substring] = []
    /// The exit status; nil when it did not run.
    var status: Int32? = nil

    /// The first number after `prefix` on the first line starting with it.
    func number(after prefix: String, skip: Int = 0) -> Double? {
        for line in output where line.hasPrefix(prefix) {
            return numbers(in: line.dropFirst(prefix.count)).dropFirst(skip).first
        }
        return nil
    }

    /// The numbers of the line starting with `prefix`, in order.
    func numbers(after prefix: String) -> [Double] {
        for line in output where line.hasPrefix(prefix) { return numbers(in: line.dropFirst(prefix.count)) }
        return []
    }

    func numbers(in text: Substring) -> [Double] {
        var out: [Double] = []
        var token = ""
        for ch in text + " " {
            if ch.isNumber || (ch == "." && !token.isEmpty) {
                token.append(ch)
            } else {
                if let v = Double(token) { out.append(v) }
                token = ""
            }
        }
        return out
    }
}

/// A row of the summary: our figure and, where one ran here, the peer's.
struct SummaryRow {
    let measure: String
    let ours: Double?
    let peer: String
    let theirs: Double?
    let goal: String

    var ratio: String {
        guard let o = ours, let t = theirs, t > 0 else { return "-" }
        return hundredths(o / t) + "x"
    }
}

func runAllBenchmarks(runs: Int?) -> Int32 {
    guard let exe = executablePath() else {
        printError("ice-bench all: cannot find this executable (/proc/self/exe)")
        return 1
    }
    let runArg = runs.map { " --runs \($0)" } ?? ""
    let suites: [(String, String)] = [
        ("stun", ""), ("ice", ""), ("srtp", ""), ("dtls", runArg), ("rtp", ""), ("idle", " --seconds 10"),
        ("alloc-check", ""), ("connect", ""), ("turn", runArg), ("network", runArg), ("browser", runArg),
    ]
    var results: [String: SuiteRun] = [:]
    for (suite, extra) in suites { results[suite] = runSuite(exe: exe, suite: suite, arguments: extra) }
    let rows = summaryRows(results)
    print("")
    print("==== summary (one run, this machine; ratio = ice-agent / peer)")
    printTable(rows)
    var failed: [String] = []
    for (suite, _) in suites where results[suite]?.status != 0 { failed.append(suite) }
    if !failed.isEmpty { print("suites that failed or could not run: " + failed.joined(separator: ", ")) }
    return failed.isEmpty ? 0 : 1
}

/// Runs `exe suite arguments`, echoing its output under a header, and keeps the lines. The
/// header and the exit line are the shell's: this process's own output is buffered and would
/// come out after the children's.
func runSuite(exe: String, suite: String, arguments: String) -> SuiteRun {
    var run = SuiteRun(suite: suite)
    let file = "/tmp/ice-bench-all-\(getpid())-\(suite).out"
    let script = "echo \"==== ice-bench \(suite)\(arguments)\"; \"\(exe)\" \(suite)\(arguments) 2>&1 | tee \(file); "
        + "rc=${PIPESTATUS[0]}; [ $rc = 0 ] || echo \"==== ice-bench \(suite): exit $rc\"; exit $rc"
    let status = system("/bin/bash -c '\(script)'")
    if let bytes = readFile(file, limit: 4 << 20) {
        run.output = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
    }
    _ = unlink(file)
    // system(3) returns a wait status: the exit code is in bits 8-15.
    run.status = status == -1 || status & 0x7F != 0 ? 1 : (status >> 8) & 0xFF
    return run
}

func summaryRows(_ r: [String: SuiteRun]) -> [SummaryRow] {
    var rows: [SummaryRow] = []
    let stun = r["stun"], rtp = r["rtp"], connect = r["connect"], turn = r["turn"]
    // ice-bench stun's comparison table: "| stage | ice-agent ns | pion ns | ratio | ... |".
    let pion = { (stage: String) -> Double? in
        let v = stun?.numbers(after: "| \(stage) |") ?? []
        return v.count > 1 ? v[1] : nil
    }
    rows.append(SummaryRow(measure: "STUN parse (ns)", ours: stun?.number(after: "parse:"),
                           peer: "pion/stun", theirs: pion("parse"), goal: "<= 1.0x"))
    rows.append(SummaryRow(measure: "STUN fingerprint check (ns)", ours: stun?.number(after: "fingerprint-check:"),
                           peer: "pion/stun", theirs: pion("fingerprint-check"), goal: "<= 1.0x"))
    rows.append(SummaryRow(measure: "STUN integrity check (ns)", ours: stun?.number(after: "integrity-check:"),
                           peer: "mbedTLS HMAC, fresh key", theirs: stun?.number(after: "mbedtls-hmac-sha1-fresh-key:"), goal: "< 1.0x"))
    // "rtp-ice-agent: N packets/s, X ns CPU/packet, D dropped"
    let clear = rtp?.numbers(after: "rtp-ice-agent:") ?? [], plain = rtp?.numbers(after: "rtp-plain-udp-forwarder:") ?? []
    let srtp = rtp?.numbers(after: "rtp-ice-agent-srtp:") ?? []
    rows.append(SummaryRow(measure: "RTP relay CPU/packet (ns)", ours: clear.count > 1 ? clear[1] : nil,
                           peer: "plain C epoll forwarder", theirs: plain.count > 1 ? plain[1] : nil, goal: "<= 1.1x"))
    rows.append(SummaryRow(measure: "SRTP relay packets/s", ours: srtp.first, peer: "plain C epoll forwarder", theirs: plain.first, goal: ">= 0.5x"))
    rows.append(SummaryRow(measure: "DTLS handshake adds (ms)", ours: r["dtls"]?.number(after: "dtls-handshake-adds:"),
                           peer: "-", theirs: nil, goal: "<= 2 RTTs + crypto"))
    // bench_browser: "dtls-vs-chromium: ice-agent X ms, aiortc Y ms (R; ...)",
    // "goal: <= 2 RTTs + crypto = ...: met" (or "not met") and "goal-less-wait: ...: met".
    let browser = r["browser"]?.numbers(after: "dtls-vs-chromium:") ?? []
    let verdictOf = { (prefix: String) -> String? in
        r["browser"]?.output.first { $0.hasPrefix(prefix) }.map { $0.hasSuffix("not met") ? "not met" : $0.hasSuffix("met") ? "met" : "?" }
    }
    var verdict = verdictOf("goal: <= 2 RTTs + crypto").map { " (" + $0 + ")" } ?? ""
    // "goal-less-wait: ...: met": the same less ice-agent's measured wait for a core.
    if let less = verdictOf("goal-less-wait:"), !verdict.isEmpty { verdict = String(verdict.dropLast()) + "; " + less + " less waiting for a core)" }
    rows.append(SummaryRow(measure: "DTLS handshake vs Chromium (ms)", ours: browser.first, peer: "aiortc",
                           theirs: browser.count > 1 ? browser[1] : nil, goal: "<= 2 RTTs + crypto" + verdict))
    rows.append(SummaryRow(measure: "SRTP protect, 1200 B (ns)", ours: r["srtp"]?.number(after: "srtp-aes-cm-hmac-sha1-80-protect:"),
                           peer: "-", theirs: nil, goal: "0 allocs"))
    rows.append(SummaryRow(measure: "idle wakeups/s", ours: r["idle"]?.number(after: "idle-wakeups:"),
                           peer: "-", theirs: nil, goal: ""))
    // connect_bench: "<pairing>: <median> ms median, <p90> ms p90 of N"
    let ours = connect?.number(after: "ice-agent<->ice-agent:")
    var best: (String, Double)? = nil
    for peer in ["aioice", "libnice", "pion"] {
        if let v = connect?.number(after: "\(peer)<->\(peer):"), best == nil || v < best!.1 { best = (peer, v) }
    }
    rows.append(SummaryRow(measure: "loopback connect, median (ms)", ours: ours, peer: best.map { "best peer (\($0.0))" } ?? "aioice/libnice/pion",
                           theirs: best?.1, goal: ""))
    rows.append(SummaryRow(measure: "loopback connect --stun, median (ms)", ours: connect?.number(after: "ice-agent<->ice-agent --stun:"),
                           peer: "-", theirs: nil, goal: "<= 1 ms"))
    rows.append(SummaryRow(measure: "loopback connect --stun, p90 (ms)", ours: connect?.number(after: "ice-agent<->ice-agent --stun:", skip: 1),
                           peer: "-", theirs: nil, goal: "<= 1 ms"))
    // turn_bench: "both sides connected (...): ice-agent median X p90 Y ms, libnice median ..."
    var relay: [String: Double] = [:]
    if let line = turn?.output.first(where: { $0.hasPrefix("both sides connected") }) {
        for part in line.split(separator: ",") {
            let words = part.split(separator: " ")
            guard let m = words.firstIndex(of: "median"), m > 0, m + 1 < words.count, let v = Double(words[m + 1]) else { continue }
            relay[String(words[m - 1])] = v
        }
    }
    var bestRelay: (String, Double)? = nil
    for (stack, v) in relay where stack != "ice-agent" {
        if bestRelay == nil || v < bestRelay!.1 { bestRelay = (stack, v) }
    }
    rows.append(SummaryRow(measure: "relay-only connect, both sides (ms)", ours: relay["ice-agent"],
                           peer: bestRelay.map { "best peer (\($0.0))" } ?? "libnice/aioice", theirs: bestRelay?.1, goal: "<= 5 ms, <= 0.2x"))
    // network_bench: "<scenario> -> media resumed: median X ms, max Y ms of N ..." (a scenario
    // with no recovered run has no median, and no figure here).
    for (title, goal) in [("address change", "< 2000 ms"), ("link flap", "< 2000 ms from link up"), ("conntrack flush", "< 8000 ms")] {
        let prefix = title + " -> media resumed:"
        let ran = r["network"]?.output.contains { $0.hasPrefix(prefix) } ?? false
        let recovered = r["network"]?.output.contains { $0.hasPrefix(prefix) && $0.contains(" median ") } ?? false
        rows.append(SummaryRow(measure: title + " -> media resumed, median (ms)", ours: recovered ? r["network"]?.number(after: prefix) : nil,
                               peer: "-", theirs: nil, goal: ran && !recovered ? goal + " (no run recovered)" : goal))
    }
    return rows
}

func printTable(_ rows: [SummaryRow]) {
    let header = ["measure", "ice-agent", "peer", "peer figure", "ratio", "goal"]
    var cells: [[String]] = [header]
    for row in rows {
        cells.append([row.measure, row.ours.map(format) ?? "not run", row.peer, row.theirs.map(format) ?? "-", row.ratio, row.goal])
    }
    var widths = [Int](repeating: 0, count: header.count)
    for line in cells { for (i, c) in line.enumerated() { widths[i] = max(widths[i], c.count) } }
    for line in cells {
        var text = ""
        for (i, c) in line.enumerated() {
            text += c + String(repeating: " ", count: widths[i] - c.count + 2)
        }
        while text.hasSuffix(" ") { text.removeLast() }
        print(text)
    }
}

/// This executable's path (/proc/self/exe).
func executablePath() -> String? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = buffer.withUnsafeMutableBytes { readlink("/proc/self/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4095) }
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n], as: UTF8.self)
}
