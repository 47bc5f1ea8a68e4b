import Common
import Daemon
import NATBehavior
import Runtime
import STUN

/// `ice-agent nat-type --stun HOST[:PORT]`: RFC 5780 §4 NAT behaviour discovery against a
/// server with an alternate address, for a field engineer asking why a call fell back to a
/// relay.
struct NatTypeCommand {
    var serverText: String? = nil
    var server = TransportAddress(.v4Any, 0)
    var json = false
    var timeout: Int64 = 20
    var rto = Interval.milliseconds(250)
    var hairpinning = true
    var timeoutGiven = false
    /// RFC 5780 §4.6: the longest idle time probed, in seconds; nil: not probed.
    var lifetime: Int64? = nil

    /// RFC 8489 §18.1.1 / RFC 7064: STUN's default UDP port.
    static let defaultPort = "3478"

    static let spec = CommandSpec<NatTypeCommand>(
        name: "nat-type", synopsis: "--stun HOST[:PORT] [--json] [--timeout S] [--rto MS] [--no-hairpinning] [--lifetime S]",
        about: "Finds this host's NAT mapping, filtering and hairpinning behaviour (RFC 5780 §4, RFC 4787) with\n"
            + "a STUN server that has an alternate address (e.g. ice-agent stun server --alternate, coturn\n"
            + "with two addresses), and says what it means for direct connections.\n"
            + "exit status: 0 determined, 1 network failure or timeout, 2 usage error, 3 the server does not\n"
            + "support RFC 5780 (no OTHER-ADDRESS, or CHANGE-REQUEST refused).",
        options: [
            Option("--stun", .value("HOST[:PORT]"), "the STUN server (also stun:HOST[:PORT]; default port 3478)") {
                c, v throws(UsageError) in
                c.serverText = v
            },
            Option("--json", .flag, "one JSON object on stdout instead of text") { c, _ throws(UsageError) in
                c.json = true
            },
            Option("--timeout", .value("S"), "the bound on the whole run (1..3600, default 20, with --lifetime 50 + 2 x its S)") {
                c, v throws(UsageError) in
                c.timeout = try number(v, in: 1...3600, "--timeout takes 1..3600 s")
                c.timeoutGiven = true
            },
            Option("--rto", .value("MS"), "each test's first retransmission timeout (10..10000, default 250)") {
                c, v throws(UsageError) in
                c.rto = .milliseconds(try number(v, in: 10...10_000, "--rto takes 10..10000 ms"))
            },
            Option("--no-hairpinning", .flag, "skip the hairpinning test (RFC 5780 §4.5)") { c, _ throws(UsageError) in
                c.hairpinning = false
            },
            Option("--lifetime", .value("S"), "also measure how long an idle mapping lives (RFC 5780 §4.6): idle 5 s,\n"
                    + "                              doubling while it survives, up to S (5..1800; off by default)") {
                c, v throws(UsageError) in
                c.lifetime = try number(v, in: 5...1800, "--lifetime takes 5..1800 s")
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try NatTypeCommand.spec.parse(arguments, into: &self)
        guard let serverText else { throw UsageError("nat-type needs --stun HOST[:PORT]") }
        let text = Self.withPort(serverText)
        guard let s = resolve(hostAndPort: text) else { throw UsageError("cannot resolve " + serverText) }
        server = s
    }

    /// "stun:" dropped, the default port added: "host", "1.2.3.4", "[v6]", bare "v6".
    static func withPort(_ text: String) -> String {
        var t = Substring(text)
        if t.hasPrefix("stun:") { t = t.dropFirst(5) }
        let s = String(t)
        if TransportAddress(s) != nil { return s }
        if s.hasPrefix("[") { return s.hasSuffix("]") ? s + ":" + defaultPort : s }
        let colons = s.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ":") ? 1 : 0) }
        if colons == 0 { return s + ":" + defaultPort }
        if colons > 1 { return "[" + s + "]:" + defaultPort }
        return s
    }

    func run() -> Int32 {
        guard let loop = openEventLoop() else { return 1 }
        // RFC 5780 §4.3: test I's mapped address equal to one of ours means no NAT. The sockets
        // are bound to the wildcard, so every interface address with socket 0's port counts.
        var filter = InterfaceFilter()
        filter.includeLoopback = true
        filter.includeLinkLocal = true
        var configuration = DiscoveryConfiguration(server: server, localAddresses: [])
        configuration.timeLimit = .seconds(timeout)
        if let lifetime {
            configuration.lifetime = LifetimeProbe(first: .seconds(5), longest: .seconds(lifetime))
            // The idle rounds add up to less than twice the longest.
            if !timeoutGiven { configuration.timeLimit = .seconds(50 + 2 * lifetime) }
        }
        configuration.rto = rto
        configuration.testHairpinning = hairpinning
        let probe: NATTypeProbe
        do throws(SocketError) {
            probe = try NATTypeProbe(configuration: configuration, localIPs: interfaceAddresses(filter).map { $0.address }, loop: loop)
        } catch {
            printError("ice-agent: " + error.description)
            return 1
        }
        probe.decided = { _ in loop.stop() }
        if probe.outcome == .running {
            do throws(EventLoop.Failure) { try loop.run() } catch {
                printError("ice-agent: event loop failed")
            }
        }
        probe.close()
        return report(probe.outcome)
    }

    func report(_ outcome: DiscoveryOutcome) -> Int32 {
        switch outcome {
        case .determined(let r):
            writeStdout(json ? Self.json(r) + "\n" : Self.text(r))
            return 0
        case .failed(let error):
            let message = Self.message(error, server: server)
            if json {
                writeStdout("{\"result\":\"failed\",\"error\":\"\(error.name)\",\"server\":\"\(server)\",\"message\":"
                                + jsonString(message) + "}\n")
            } else {
                printError("ice-agent nat-type: " + message)
            }
            return error == .serverLacksRFC5780 ? 3 : 1
        case .running:
            return 1
        }
    }

    static func message(_ error: NATDiscoveryError, server: TransportAddress) -> String {
        switch error {
        case .noResponse: return "no response from \(server) (server down, or UDP blocked)"
        case .serverLacksRFC5780:
            return "\(server) does not support RFC 5780 (no OTHER-ADDRESS, or CHANGE-REQUEST refused): "
                + "use a server with an alternate address"
        case .alternateUnreachable: return "the alternate address \(server) advertised does not answer"
        case .errorResponse(let code): return "\(server) answered with error \(code)"
        case .timedOut: return "the time limit passed before mapping and filtering were known"
        }
    }

    static func mappingLine(_ m: MappingBehavior) -> String {
        m == .noNAT ? "no NAT (the mapped address is this host's own)" : "\(m.name) (\(m.abbreviation))"
    }

    static func verdict(_ r: NATBehaviorReport) -> String {
        let mapping = r.mapping == .noNAT ? "no NAT" : "\(r.mapping.abbreviation)"
        return "NAT type: \(r.classification.label) (\(mapping), \(r.filtering.abbreviation)) — \(r.classification.advice)"
    }

    static func text(_ r: NATBehaviorReport) -> String {
        "server: \(r.server), alternate \(r.otherAddress)\n"
            + "mapped address: \(r.mappedAddress)\n"
            + "mapping: " + mappingLine(r.mapping) + "\n"
            + "filtering: \(r.filtering.name) (\(r.filtering.abbreviation))\n"
            + "hairpinning: \(r.hairpinning.name)\n"
            + (r.mappingLifetime.map { "mapping lifetime: " + lifetimeText($0) + "\n" } ?? "")
            + verdict(r) + "\n"
    }

    static func lifetimeText(_ l: MappingLifetime) -> String {
        switch (l.aliveAfter, l.goneAfter) {
        case (let alive?, let gone?): return "alive after \(alive.milliseconds / 1000) s idle, gone after \(gone.milliseconds / 1000) s"
        case (let alive?, nil): return "alive after \(alive.milliseconds / 1000) s idle (the longest probed)"
        case (nil, let gone?): return "gone after \(gone.milliseconds / 1000) s idle (the shortest probed)"
        case (nil, nil): return "unknown (the time limit came first)"
        }
    }

    static func seconds(_ i: Interval?) -> String { i.map { "\($0.milliseconds / 1000)" } ?? "null" }

    static func json(_ r: NATBehaviorReport) -> String {
        "{\"result\":\"determined\",\"nat_type\":\"\(r.classification.name)\",\"mapping\":\"\(r.mapping.name)\","
            + "\"filtering\":\"\(r.filtering.name)\",\"hairpinning\":\"\(r.hairpinning.name)\","
            + "\"mapped_address\":\"\(r.mappedAddress)\",\"server\":\"\(r.server)\",\"other_address\":\"\(r.otherAddress)\""
            + (r.mappingLifetime.map { ",\"lifetime_alive_s\":" + seconds($0.aliveAfter) + ",\"lifetime_gone_s\":" + seconds($0.goneAfter) } ?? "")
            + ",\"advice\":" + jsonString("\(r.classification.advice)") + "}"
    }
}
