import Foundation
import TestSupport
import Testing

/// TURN to the server over TCP and TLS (RFC 8656 §3.1, RFC 7065 URIs) and IPv6 relays,
/// against a real coturn: `ice-agent turn allocate` for the client alone, relay-only daemons
/// for ICE over each transport, and the failure cases (wrong CA, wrong name, stalled
/// handshake, server gone) as typed errors that never hang or kill the agent.
@Suite(.serialized) struct TURNTransportTests {
    // MARK: The client alone

    @Test func allocateAndEchoOverTCP() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turn:127.0.0.1:\(coturn.port)?transport=tcp", "--user", "test:secret",
            "--peer", "127.0.0.1:\(peerPort)",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log.suffix(3000))")
        #expect(r.stderr.contains("connected: tcp to 127.0.0.1:\(coturn.port)"), "\(r.stderr)")
        let relayed = try #require(line("relayed: ", in: r.stdout), "\(r.stdout)")
        #expect(relayed.hasPrefix("127.0.0.1:"))
        // Data both ways: Send/Data indications, then ChannelData (padded to 4 on the stream).
        #expect(r.stderr.contains("echo via send/data indication: ok"), "\(r.stderr)")
        #expect(r.stderr.contains("echo via channel: ok"), "\(r.stderr)")
        #expect(r.stdout.contains("echo: ok"))
        // coturn saw a TCP client session, and the deallocation on it.
        #expect(coturn.log.contains("TCP"), "\(coturn.log.suffix(3000))")
        #expect(waitUntil { coturn.log.contains("lifetime=0") }, "\(coturn.log.suffix(3000))")
    }

    @Test func allocateAndEchoOverTLSWithTheTestCA() throws {
        let pki = try TestCertificates()
        let coturn = try startCoturn(tls: pki)
        defer { coturn.stop() }
        let tlsPort = try #require(coturn.tlsPort)
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        // By name (SNI and a DNS name match) and by IP literal (an iPAddress subjectAltName).
        for host in ["localhost", "127.0.0.1"] {
            let r = try run(try iceAgentPath(), [
                "turn", "allocate", "--server", "turns:\(host):\(tlsPort)", "--ca", pki.caFile, "--user", "test:secret",
                "--peer", "127.0.0.1:\(peerPort)",
            ])
            #expect(r.status == 0, "\(host): \(r.stderr)\n\(coturn.log.suffix(3000))")
            #expect(r.stderr.contains("connected: tls to 127.0.0.1:\(tlsPort)"), "\(r.stderr)")
            #expect(line("relayed: ", in: r.stdout)?.hasPrefix("127.0.0.1:") == true, "\(r.stdout)")
            #expect(r.stdout.contains("echo: ok"), "\(host): \(r.stderr)")
        }
        #expect(coturn.log.contains("TLS"), "\(coturn.log.suffix(3000))")
    }

    @Test func tlsWithTheWrongCAIsRejected() throws {
        let pki = try TestCertificates()
        let coturn = try startCoturn(tls: pki)
        defer { coturn.stop() }
        let tlsPort = try #require(coturn.tlsPort)
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turns:localhost:\(tlsPort)", "--ca", pki.otherCAFile, "--user", "test:secret",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("certificate not trusted (mbedTLS verify flags 0x00000008)"), "\(r.stderr)")
        #expect(!r.stdout.contains("relayed:"))
        // Nothing was allocated: the Allocate never left.
        #expect(!coturn.log.contains("ALLOCATE processed, success"), "\(coturn.log.suffix(2000))")
    }

    @Test func missingCAFileIsAClearError() throws {
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turns:127.0.0.1:5349", "--ca", "/nonexistent/ca.pem", "--user", "a:b",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot load CA certificates from /nonexistent/ca.pem"), "\(r.stderr)")
        let call = try run(try iceAgentPath(), [
            "call", "--signal", "stdio", "--turn", "turns:127.0.0.1", "--turn-user", "a:b", "--turn-ca", "/nonexistent/ca.pem",
        ])
        #expect(call.status == 2)
        #expect(call.stderr.contains("--turn-ca: cannot load CA certificates from /nonexistent/ca.pem"), "\(call.stderr)")
    }

    /// SNI carries the URI's host name, never an IP literal (RFC 6066 §3); the certificate must
    /// match either. A python TLS server reports the SNI it saw.
    @Test func sniAndCertificateNameChecks() throws {
        let pki = try TestCertificates()
        let python = try requireTool("python3", install: "apt-get install -y python3")
        let port = freeTCPPort()
        let script = """
            import socket, ssl, sys
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[1], sys.argv[2])
            ctx.sni_callback = lambda s, name, c: print("sni:", name, flush=True)
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", int(sys.argv[3])))
            ls.listen()
            print("ready", flush=True)
            while True:
                c, _ = ls.accept()
                try:
                    t = ctx.wrap_socket(c, server_side=True)
                    t.recv(100)
                    t.close()
                except Exception as e:
                    print("handshake failed:", e, flush=True)
            """
        let server = try Background(python, ["-c", script, pki.otherNameCertificate, pki.serverKey, "\(port)"])
        defer { server.stop() }
        #expect(waitUntil { server.output.contains("ready") }, "\(server.output)")
        let agent = try iceAgentPath()
        // By name: SNI "localhost", and the certificate (for elsewhere.example) does not match.
        let byName = try run(agent, ["turn", "allocate", "--server", "turns:localhost:\(port)", "--ca", pki.caFile,
                                     "--user", "a:b", "--timeout", "3"])
        #expect(byName.status == 1)
        #expect(byName.stderr.contains("certificate name mismatch"), "\(byName.stderr)")
        #expect(waitUntil { server.output.contains("sni: localhost") }, "\(server.output)")
        // By IP literal: no SNI at all, and no iPAddress 127.0.0.1 in the certificate.
        let byIP = try run(agent, ["turn", "allocate", "--server", "turns:127.0.0.1:\(port)", "--ca", pki.caFile,
                                   "--user", "a:b", "--timeout", "3"])
        #expect(byIP.status == 1)
        #expect(byIP.stderr.contains("certificate name mismatch (mbedTLS verify flags 0x00000004)"), "\(byIP.stderr)")
        #expect(waitUntil { server.output.contains("sni: None") }, "\(server.output)")
    }

    @Test func stalledTLSHandshakeTimesOut() throws {
        let pki = try TestCertificates()
        let silent = SilentListener()
        let start = Date()
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turns:127.0.0.1:\(silent.port)", "--ca", pki.caFile, "--user", "a:b",
            "--timeout", "2",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("TLS handshake timed out"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(start) < 6)
        // A closed port: refused at once, not a timeout.
        let refused = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turn:127.0.0.1:\(freeTCPPort())?transport=tcp", "--user", "a:b",
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("TCP connect failed: Connection refused"), "\(refused.stderr)")
    }

    /// A "server" that answers with bytes that are neither STUN nor ChannelData: a stream
    /// cannot be resynchronised, so it is a typed framing error (not a hang, not a crash).
    @Test func garbageFromTheServerIsAFramingError() throws {
        let python = try requireTool("python3", install: "apt-get install -y python3")
        let port = freeTCPPort()
        let script = """
            import socket, sys, time
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", int(sys.argv[1])))
            ls.listen()
            print("ready", flush=True)
            c, _ = ls.accept()
            c.recv(2048)
            c.sendall(b"\\xff not a TURN server\\r\\n")
            time.sleep(30)
            """
        let server = try Background(python, ["-c", script, "\(port)"])
        defer { server.stop() }
        #expect(waitUntil { server.output.contains("ready") }, "\(server.output)")
        let start = Date()
        let r = try run(try iceAgentPath(), ["turn", "allocate", "--server", "turn:127.0.0.1:\(port)?transport=tcp",
                                             "--user", "a:b", "--timeout", "10"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad data from the server (invalid-frame)"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    // MARK: IPv6

    @Test func ipv6RelayOverUDPAndTCP() throws {
        let coturn = try startCoturn(listeningIP: "::1")
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer(host: "::1")
        defer { peer.stop() }
        for server in ["turn:[::1]:\(coturn.port)", "turn:[::1]:\(coturn.port)?transport=tcp"] {
            let r = try run(try iceAgentPath(), [
                "turn", "allocate", "--server", server, "--user", "test:secret", "--peer", "[::1]:\(peerPort)",
            ])
            #expect(r.status == 0, "\(server): \(r.stderr)\n\(coturn.log.suffix(3000))")
            let relayed = try #require(line("relayed: ", in: r.stdout), "\(r.stdout)")
            #expect(relayed.hasPrefix("[::1]:"), "\(relayed)")
            #expect(r.stdout.contains("echo: ok"), "\(server): \(r.stderr)")
        }
        // REQUESTED-ADDRESS-FAMILY went out (IPv6 relays are asked for explicitly).
        #expect(coturn.log.contains("ALLOCATE processed, success"), "\(coturn.log.suffix(2000))")
        // An IPv4 relay from an IPv6-only relay server: 440, a typed failure.
        let v4 = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "turn:[::1]:\(coturn.port)", "--user", "test:secret", "--family", "4",
        ])
        #expect(v4.status == 1)
        #expect(v4.stderr.contains("address family not supported (440)"), "\(v4.stderr)")
    }

    // MARK: ICE through TCP and TLS relays

    @Test func relayOnlyCallOverTCP() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let url = "turn:127.0.0.1:\(coturn.port)?transport=tcp"
        let r = try streamOverStdio(extra: ["--turn", url, "--turn-user", "test:secret", "--relay-only"])
        #expect(r.callStatus == 0 && r.answerStatus == 0, "\(r.callLog)\n\(r.answerLog)")
        for log in [r.callLog, r.answerLog] {
            #expect(log.contains("TURN \(url) allocated 127.0.0.1:"), "\(log)")
            #expect(log.contains("(relay/relay) nominated"), "\(log)")
            #expect(!log.contains("ICE failed"), "\(log)")
        }
        #expect(r.received > r.sent / 2, "sent \(r.sent), received \(r.received)\n\(r.callLog)\n\(r.answerLog)")
    }

    @Test func relayOnlyCallOverTLS() throws {
        let pki = try TestCertificates()
        let coturn = try startCoturn(tls: pki)
        defer { coturn.stop() }
        let url = "turns:localhost:\(try #require(coturn.tlsPort))"
        let r = try streamOverStdio(extra: ["--turn", url, "--turn-user", "test:secret", "--turn-ca", pki.caFile, "--relay-only"])
        #expect(r.callStatus == 0 && r.answerStatus == 0, "\(r.callLog)\n\(r.answerLog)")
        for log in [r.callLog, r.answerLog] {
            #expect(log.contains("TURN \(url) allocated 127.0.0.1:"), "\(log)")
            #expect(log.contains("(relay/relay) nominated"), "\(log)")
        }
        #expect(r.received > r.sent / 2, "sent \(r.sent), received \(r.received)\n\(r.callLog)\n\(r.answerLog)")
    }

    /// One relayed candidate per server and transport, ranked UDP > TCP > TLS (RFC 8445
    /// §5.1.2.1 local preference; type preference 0 for relayed).
    @Test func oneRelayedCandidatePerTransportRankedUDPThenTCPThenTLS() throws {
        let pki = try TestCertificates()
        let coturn = try startCoturn(tls: pki)
        defer { coturn.stop() }
        let tlsURL = "turns:localhost:\(try #require(coturn.tlsPort))"
        let udpURL = "turn:127.0.0.1:\(coturn.port)", tcpURL = "turn:127.0.0.1:\(coturn.port)?transport=tcp"
        // TLS first on the command line: the order must not decide the ranking. The UDP URI
        // twice: still one candidate.
        let r = try run(try iceAgentPath(), [
            "answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--relay-only", "--duration", "3",
            "--turn", tlsURL, "--turn", tcpURL, "--turn", udpURL, "--turn", udpURL, "--turn-user", "test:secret",
            "--turn-ca", pki.caFile,
        ], timeout: 20)
        // The description's lines end in CRLF (one Character in Swift): split on any newline.
        let candidates = r.stdout.split(whereSeparator: { $0.isNewline }).filter { $0.hasPrefix("a=candidate:") && $0.contains("typ relay") }
        #expect(candidates.count == 3, "\(r.stdout)\n\(r.stderr)")
        func priority(_ transport: String) -> UInt32? {
            // The log names each allocation's relayed address; find its candidate line.
            guard let logLine = r.stderr.split(separator: "\n").first(where: { $0.contains("TURN \(transport) allocated ") }),
                  let address = logLine.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") })
            else { return nil }
            let port = address.split(separator: ":")[1]
            guard let c = candidates.first(where: { $0.contains(" 127.0.0.1 \(port) typ relay") }) else { return nil }
            return UInt32(c.split(separator: " ")[3])
        }
        let udp = try #require(priority(udpURL + "?transport=udp"), "\(r.stderr)")
        let tcp = try #require(priority(tcpURL), "\(r.stderr)")
        let tls = try #require(priority(tlsURL), "\(r.stderr)")
        #expect(udp > tcp && tcp > tls, "udp \(udp) tcp \(tcp) tls \(tls)")
        for p in [udp, tcp, tls] { #expect(p >> 24 == 0, "type preference of relayed is 0: \(p)") }
    }

    // MARK: Failures in the daemon

    /// A TLS server that accepts and then says nothing: the daemon logs a typed timeout,
    /// retries with backoff, and keeps answering on its status socket throughout.
    @Test func daemonSurvivesAStalledTLSServer() throws {
        let pki = try TestCertificates()
        let silent = SilentListener()
        let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("ice-status-\(UUID().uuidString).sock").path
        defer { try? FileManager.default.removeItem(atPath: socketPath) }
        let agent = try iceAgentPath()
        let daemon = try Background(agent, [
            "answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--relay-only", "--duration", "16",
            "--turn", "turns:127.0.0.1:\(silent.port)", "--turn-user", "a:b", "--turn-ca", pki.caFile,
            "--status-socket", socketPath, "--log-level", "info",
        ])
        defer { daemon.stop() }
        // Mid-handshake (the timeout is 10 s): the event loop is not blocked.
        Thread.sleep(forTimeInterval: 3)
        let during = try run(agent, ["status", "--socket", socketPath])
        #expect(during.status == 0 && during.stdout.contains("\"state\""), "\(during.stderr)\n\(daemon.output)")
        #expect(waitUntil(timeout: 12) { daemon.output.contains("TLS handshake timed out") }, "\(daemon.output)")
        #expect(waitUntil(timeout: 2) { daemon.output.contains("retrying in 2 s") }, "\(daemon.output)")
        let after = try run(agent, ["status", "--socket", socketPath])
        #expect(after.status == 0 && after.stdout.contains("\"state\""), "\(after.stderr)\n\(daemon.output)")
        // The status shows the relay, not allocated, with its failure counted.
        #expect(after.stdout.contains("\"relays\":[{\"server\":\"turns:127.0.0.1:\(silent.port)\""), "\(after.stdout)")
        #expect(!after.stdout.contains("\"relayed\":") && after.stdout.contains("\"failures\":1"), "\(after.stdout)")
        #expect(daemon.process.isRunning, "\(daemon.output)")
    }

    /// The server goes away under a TCP allocation: the allocation is gone with the connection
    /// (RFC 8656 §3.1), the daemon says so, and a fresh allocation follows once the server is
    /// back.
    @Test func daemonReallocatesAfterTheServerDisappears() throws {
        var coturn = try startCoturn()
        let port = coturn.port
        defer { coturn.stop() }
        let daemon = try Background(try iceAgentPath(), [
            "answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--relay-only", "--duration", "20",
            "--turn", "turn:127.0.0.1:\(port)?transport=tcp", "--turn-user", "test:secret", "--log-level", "info",
        ])
        defer { daemon.stop() }
        #expect(waitUntil(timeout: 5) { daemon.output.contains("allocated 127.0.0.1:") }, "\(daemon.output)")
        coturn.stop()
        #expect(waitUntil(timeout: 5) { daemon.output.contains("the allocation is gone") }, "\(daemon.output)")
        // Logged in the same loop turn, but a separate write: wait for it too.
        #expect(waitUntil(timeout: 2) { daemon.output.contains("connection to the server lost") }, "\(daemon.output)")
        #expect(waitUntil(timeout: 2) { daemon.output.contains("retrying in 2 s") }, "\(daemon.output)")
        // While the server is down the retries fail (refused) and back off: 2 s, then 4 s.
        #expect(waitUntil(timeout: 5) { daemon.output.contains("TCP connect failed: Connection refused") }, "\(daemon.output)")
        coturn = try startCoturn(port: port)
        #expect(waitUntil(timeout: 12) { daemon.output.components(separatedBy: "allocated 127.0.0.1:").count - 1 >= 2 },
                "\(daemon.output)")
        // End-of-candidates went out with the first relay: the new one is not trickled (RFC 8838).
        #expect(waitUntil(timeout: 2) { daemon.output.contains("not signaled (after end-of-candidates)") }, "\(daemon.output)")
        #expect(daemon.output.components(separatedBy: " typ relay").count - 1 == 1, "\(daemon.output)")
        #expect(daemon.process.isRunning)
    }
}
