import Foundation
import Testing

/// Our TURN client (`ice-agent turn allocate`, RFC 8656 over UDP) against a real coturn
/// (Debian `coturn`) on loopback, with a UDP echo peer behind the relay.
@Suite(.serialized) struct TURNCoturnTests {
    let install = "apt-get install -y coturn"

    /// A UDP echo peer on 127.0.0.1 (python3), the far side of the relay.
    func startEchoPeer() throws -> (Background, UInt16) {
        let python = try requireTool("python3", install: "apt-get install -y python3")
        let port = freeUDPPort()
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", int(sys.argv[1])))
            print("ready", flush=True)
            while True:
                data, addr = s.recvfrom(65535)
                s.sendto(data, addr)
            """
        let peer = try Background(python, ["-c", script, "\(port)"])
        #expect(waitUntil { peer.output.contains("ready") }, "echo peer did not start: \(peer.output)")
        return (peer, port)
    }

    func line(_ prefix: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    @Test func allocateSucceedsAndDeallocatesOnExit() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), ["turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret"])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        // The relayed address is in coturn's relay range on the relay IP.
        let relayed = try #require(line("relayed: ", in: r.stdout), "\(r.stdout)")
        #expect(relayed.hasPrefix("127.0.0.1:"))
        let port = try #require(UInt16(relayed.dropFirst("127.0.0.1:".count)))
        #expect(port >= coturn.minPort && port <= coturn.maxPort, "relayed \(relayed) outside \(coturn.minPort)-\(coturn.maxPort)")
        let mapped = try #require(line("mapped: ", in: r.stdout), "\(r.stdout)")
        #expect(mapped.hasPrefix("127.0.0.1:"))
        #expect(r.stderr.contains("deallocated"))
        // coturn saw the Refresh with LIFETIME 0 and accepted it.
        #expect(waitUntil { coturn.log.contains("lifetime=0") }, "no deallocation in coturn's log:\n\(coturn.log)")
        #expect(coturn.log.contains("incoming packet REFRESH processed, success"))
    }

    @Test func wrongPasswordFailsWithWrongCredentials() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), ["turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:not-the-secret"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("wrong credentials"), "\(r.stderr)")
        #expect(r.stderr.contains("401"), "\(r.stderr)")
        #expect(!r.stdout.contains("relayed:"))
    }

    @Test func unexpectedRealmFails() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret", "--realm", "other.example",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unexpected realm"), "\(r.stderr)")
    }

    @Test func dataBothWaysThroughTheRelay() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret",
            "--peer", "127.0.0.1:\(peerPort)", "--realm", "example.org",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        #expect(r.stdout.contains("echo: ok"), "\(r.stdout)\n\(r.stderr)")
        // First through Send/Data indications, then through the channel (ChannelData both ways).
        #expect(r.stderr.contains("echo via send/data indication: ok"), "\(r.stderr)")
        #expect(r.stderr.contains("channel: 0x4000 -> 127.0.0.1:\(peerPort)"), "\(r.stderr)")
        #expect(r.stderr.contains("echo via channel: ok"), "\(r.stderr)")
        #expect(waitUntil { coturn.log.contains("lifetime=0") })
        #expect(coturn.log.contains("CREATE_PERMISSION processed, success"), "\(coturn.log)")
        #expect(coturn.log.contains("CHANNEL_BIND processed, success"), "\(coturn.log)")
    }

    @Test func staleNonceIsRetried() throws {
        // Nonces live 1 s; holding the allocation 2 s makes the next request's nonce stale.
        let coturn = try startCoturn(["--stale-nonce=1"])
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret",
            "--peer", "127.0.0.1:\(peerPort)", "--hold", "2",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        #expect(r.stdout.contains("echo: ok"))
        let retries = try #require(line("stale-nonce-retries: ", in: r.stderr)?.split(separator: " ").first.flatMap { Int($0) },
                                   "\(r.stderr)")
        #expect(retries >= 1, "\(r.stderr)")
        #expect(coturn.log.contains("438"), "\(coturn.log)")
    }

    @Test func unreachableServerTimesOut() throws {
        let silent = freeUDPPort()
        let start = Date()
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(silent)", "--user", "test:secret", "--rto", "20", "--timeout", "2",
        ])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(Date().timeIntervalSince(start) < 10)
    }
}

/// A coturn on 127.0.0.1 (or `listeningIP`) with long-term credentials test:secret in realm
/// example.org. UDP and TCP on `port`; with `tls`, also a TLS listener on `tlsPort` with the
/// test CA's server certificate.
struct Coturn {
    let process: Background
    let port: UInt16
    let tlsPort: UInt16?
    let minPort: UInt16
    let maxPort: UInt16
    let logPath: String
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

func startCoturn(_ extra: [String] = [], tls: TestCertificates? = nil, listeningIP: String = "127.0.0.1",
                 port fixedPort: UInt16? = nil, tlsPort fixedTLSPort: UInt16? = nil) throws -> Coturn {
    let turnserver = try requireTool("turnserver", install: "apt-get install -y coturn")
    let port = fixedPort ?? freeUDPPort()
    let minPort = UInt16.random(in: 42000...58000)
    let maxPort = minPort + 49
    // A log file (flushed per line with -v) rather than stdout, which coturn buffers.
    let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("coturn-\(UUID().uuidString).log").path
    // Loopback only, no DTLS/CLI (and no TLS unless asked for): nothing leaves this machine.
    var tlsPort: UInt16? = nil
    var tlsArguments = ["--no-tls"]
    if let tls {
        let p = fixedTLSPort ?? freeTCPPort()
        tlsPort = p
        tlsArguments = ["--tls-listening-port=\(p)", "--cert=\(tls.serverCertificate)", "--pkey=\(tls.serverKey)"]
    }
    let process = try Background(turnserver, [
        "-n", "--listening-ip=\(listeningIP)", "--relay-ip=\(listeningIP)", "--listening-port=\(port)",
        "--min-port=\(minPort)", "--max-port=\(maxPort)", "--no-dtls", "--no-cli",
        "--lt-cred-mech", "--user=test:secret", "--realm=example.org", "--allow-loopback-peers",
        "--log-file=\(logPath)", "--simple-log", "-v",
    ] + tlsArguments + extra)
    let server = Coturn(process: process, port: port, tlsPort: tlsPort, minPort: minPort, maxPort: maxPort, logPath: logPath)
    // Ready when it answers a Binding request.
    let agent = try iceAgentPath()
    let host = listeningIP.contains(":") ? "[\(listeningIP)]" : listeningIP
    let ready = waitUntil(timeout: 10) {
        (try? run(agent, ["stun", "client", "\(host):\(port)", "--rto", "50", "--retries", "2"]))?.status == 0
    }
    if !ready {
        defer { server.stop() }
        throw TestFailure("turnserver did not start: \(process.output)\n\(server.log)")
    }
    return server
}
