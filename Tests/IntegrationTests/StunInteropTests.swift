import Foundation
import TestSupport
import Testing

/// Our STUN server and client on real loopback sockets, against each other and against
/// coturn (Debian `coturn`): our client to turnserver, coturn's clients to our server.
@Suite(.serialized) struct StunInteropTests {
    let install = "apt-get install -y coturn"

    func startServer(_ extra: [String] = []) throws -> (Background, UInt16) {
        let port = freeUDPPort()
        let server = try Background(try iceAgentPath(), ["stun", "server", "--listen", "127.0.0.1:\(port)"] + extra)
        #expect(waitUntil { server.output.contains("listening") }, "server did not start: \(server.output)")
        return (server, port)
    }

    func expectLoopbackMapped(_ text: String) {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("127.0.0.1:"), "mapped address: \(text)")
        #expect(UInt16(line.dropFirst("127.0.0.1:".count)) != nil)
    }

    @Test func ourClientAgainstOurServer() throws {
        let (server, port) = try startServer()
        defer { server.stop() }
        let clientPort = freeUDPPort()
        let r = try run(try iceAgentPath(), ["stun", "client", "127.0.0.1:\(port)", "--bind", "127.0.0.1:\(clientPort)", "--rto", "100"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "127.0.0.1:\(clientPort)\n")
    }

    @Test func ourClientAgainstCoturn() throws {
        // A STUN server alone (RFC 8489), as a `--stun` option names one.
        let coturn = try startCoturn(["--stun-only"])
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), ["stun", "client", "localhost:\(coturn.port)", "--rto", "100"])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        expectLoopbackMapped(r.stdout)
    }

    @Test func coturnClientAgainstOurServer() throws {
        let client = try requireTool("turnutils_stunclient", install: install)
        let (server, port) = try startServer()
        defer { server.stop() }
        let localPort = freeUDPPort()
        // turnutils_stunclient waits forever on a lost packet: bounded by run()'s timeout.
        let r = try run(client, ["-p", "\(port)", "-L", "127.0.0.1", "127.0.0.1"], timeout: 10)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("UDP reflexive addr: 127.0.0.1:"), "\(r.stdout)")
        _ = localPort
    }

    @Test func rfc5780WithCoturnNATDiscovery() throws {
        let discovery = try requireTool("turnutils_natdiscovery", install: install)
        let alternatePort = freeUDPPort()
        let (server, port) = try startServer(["--alternate", "127.0.0.2:\(alternatePort)"])
        defer { server.stop() }
        let r = try run(discovery, ["-m", "-f", "-p", "\(port)", "127.0.0.1"], timeout: 30)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        // Loopback has no NAT: mapping and filtering must both come out endpoint-independent,
        // which needs OTHER-ADDRESS and all CHANGE-REQUEST variants to work.
        #expect(r.stdout.contains("Other addr: : 127.0.0.2:\(alternatePort)"), "\(r.stdout)")
        #expect(r.stdout.contains("NAT with Endpoint Independent Filtering"), "\(r.stdout)")
        #expect(r.stdout.contains("NAT with Endpoint Independent Mapping") || r.stdout.contains("No NAT"), "\(r.stdout)")
    }

    @Test func clientTimesOutWithExitOne() throws {
        let silentPort = freeUDPPort()  // nothing listens there
        let start = Date()
        let r = try run(try iceAgentPath(), ["stun", "client", "127.0.0.1:\(silentPort)", "--rto", "20", "--retries", "3"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no response"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        // 3 sends: 0, 20, 60 ms, then Rm*RTO = 320 ms: the RFC schedule, not a fixed sleep.
        #expect(Date().timeIntervalSince(start) < 5)
    }
}
