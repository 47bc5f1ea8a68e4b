import Foundation
import TestSupport
import Testing

/// WHIP-style signaling over HTTPS (RFC 9725 §4.7): `answer --listen` with `--tls-cert` and
/// `--tls-key`, `call https://...` checking the server's certificate against `--signal-ca`.
@Suite(.serialized) struct HTTPSSignalingTests {
    /// `answer --listen` serving HTTPS with the test PKI's server certificate (or `certificate`).
    func startHTTPSHome(_ port: UInt16, _ pki: TestCertificates, certificate: String? = nil, _ extra: [String] = []) throws -> Background {
        let h = try Background(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback", "--interface", "lo",
                                                    "--duration", "60", "--tls-cert", certificate ?? pki.serverCertificate,
                                                    "--tls-key", pki.serverKey] + extra)
        guard waitUntil({ h.output.contains("listening on https://") }) else {
            h.stop()
            throw TestFailure("answer --listen with TLS did not start: \(h.output)")
        }
        return h
    }

    func call(_ port: UInt16, _ extra: [String], duration: Int = 2) throws -> Finished {
        try run(try iceAgentPath(), ["call", "https://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                     "--duration", "\(duration)"] + extra, timeout: 20)
    }

    @Test func callHomeOverHTTPSAndMediaFlows() throws {
        let pki = try TestCertificates()
        let port = freeTCPPort(), rtpIn = freeUDPPort(), rtpOut = freeUDPPort()
        let home = try startHTTPSHome(port, pki, ["--rtp-out", "127.0.0.1:\(rtpOut)"])
        defer { home.stop() }
        let doorbell = try Background(try iceAgentPath(), ["call", "https://127.0.0.1:\(port)/whip", "--signal-ca", pki.caFile,
                                                           "--allow-loopback", "--interface", "lo", "--duration", "4",
                                                           "--rtp-in", "127.0.0.1:\(rtpIn)"])
        defer { doorbell.stop() }
        let tx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), rx = bindLoopback(Int32(SOCK_DGRAM.rawValue), port: rtpOut).fd
        defer { close(tx); close(rx) }
        setReceiveTimeout(rx, microseconds: 20_000)
        var received = 0, sequence = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        let start = Date()
        while Date().timeIntervalSince(start) < 3.5 {
            sendLoopback(tx, testRTPPacket(sequence: sequence), to: rtpIn)
            sequence += 1
            while buffer.withUnsafeMutableBytes({ recv(rx, $0.baseAddress, $0.count, 0) }) > 0 { received += 1 }
        }
        doorbell.process.waitUntilExit()
        #expect(doorbell.process.terminationStatus == 0, "\(doorbell.output)\n\(home.output)")
        #expect(doorbell.output.contains("doorbell: ICE completed"), "\(doorbell.output)")
        #expect(received > 20, "only \(received) RTP packets of \(sequence) arrived\n\(home.output)")
        // The DELETE on the way out goes over TLS too.
        #expect(waitUntil { home.output.contains("session 1 deleted") }, "\(home.output)")
    }

    @Test func anUntrustedOrMisnamedServerFailsTheCall() throws {
        let pki = try TestCertificates()
        let port = freeTCPPort()
        let home = try startHTTPSHome(port, pki)
        defer { home.stop() }
        let untrusted = try call(port, ["--signal-ca", pki.otherCAFile])
        #expect(untrusted.status == 1, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("TLS with 127.0.0.1: certificate not trusted"), "\(untrusted.stderr)")
        #expect(!home.output.contains("signaling: session"), "\(home.output)")

        // Trusted CA, but a certificate for another name: the URL's host must match.
        let otherPort = freeTCPPort()
        let other = try startHTTPSHome(otherPort, pki, certificate: pki.otherNameCertificate)
        defer { other.stop() }
        let misnamed = try call(otherPort, ["--signal-ca", pki.caFile])
        #expect(misnamed.status == 1, "\(misnamed.stderr)")
        #expect(misnamed.stderr.contains("name mismatch"), "\(misnamed.stderr)")

        // The right CA: the same home takes the call.
        let good = try call(port, ["--signal-ca", pki.caFile])
        #expect(good.status == 0, "\(good.stderr)\n\(home.output)")
    }

    @Test func plainHTTPGetsNothingAndTheTokenIsStillRequired() throws {
        let pki = try TestCertificates()
        let port = freeTCPPort()
        let tokenFile = try tempFile("0123456789abcdef0123456789abcdef\n")
        let wrongFile = try tempFile("fedcba9876543210fedcba9876543210\n")
        defer { try? FileManager.default.removeItem(atPath: tokenFile); try? FileManager.default.removeItem(atPath: wrongFile) }
        let home = try startHTTPSHome(port, pki, ["--token-file", tokenFile])
        defer { home.stop() }
        // A plain-HTTP request is no TLS handshake: no HTTP response, the connection closes.
        let plain = post(port, offerSDP(), token: "0123456789abcdef0123456789abcdef")
        #expect(!plain.raw.contains("HTTP/1.1"), "\(plain.raw)")
        #expect(!home.output.contains("signaling: session"), "\(home.output)")

        let wrong = try call(port, ["--signal-ca", pki.caFile, "--token-file", wrongFile])
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("HTTP 401"), "\(wrong.stderr)")
        let right = try call(port, ["--signal-ca", pki.caFile, "--token-file", tokenFile])
        #expect(right.status == 0, "\(right.stderr)\n\(home.output)")
        #expect(right.stderr.contains("doorbell: ICE completed"), "\(right.stderr)")
    }

    /// Clients that stop mid-handshake fill the per-address connection limit: each is dropped
    /// at the 10 s request timeout, and then a call gets through.
    @Test func aStalledHandshakeIsDroppedAfterTheTimeout() throws {
        let pki = try TestCertificates()
        let port = freeTCPPort()
        let home = try startHTTPSHome(port, pki)
        defer { home.stop() }
        // The first bytes of a TLS handshake record (RFC 8446 §5.1) announcing 512 bytes that never come.
        let partial: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]
        var stalled: [Int32] = []
        for _ in 0..<4 {
            let fd = connectTCP(port)
            #expect(fd >= 0)
            _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            stalled.append(fd)
        }
        defer { stalled.forEach { close($0) } }
        let start = Date()
        // While they stall, the address has no slot left: a call cannot get an answer.
        let refused = try call(port, ["--signal-ca", pki.caFile], duration: 1)
        #expect(refused.status == 1, "\(refused.stderr)")
        for fd in stalled {
            setReceiveTimeout(fd, microseconds: 15_000_000)
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, 0)
            // Closed by the server (0, or a reset), not by our own receive timeout.
            #expect(n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed > 8 && elapsed < 14, "dropped after \(elapsed) s")
        let good = try call(port, ["--signal-ca", pki.caFile])
        #expect(good.status == 0, "\(good.stderr)\n\(home.output)")
    }

    @Test func badTLSFilesAreUsageErrors() throws {
        let pki = try TestCertificates()
        let port = freeTCPPort()
        func answer(_ extra: [String]) throws -> Finished {
            try run(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--duration", "1"] + extra, timeout: 10)
        }
        let alone = try answer(["--tls-cert", pki.serverCertificate])
        #expect(alone.status == 2 && alone.stderr.contains("--tls-cert and --tls-key go together"), "\(alone.stderr)")
        let missing = try answer(["--tls-cert", pki.path("nothing.pem"), "--tls-key", pki.serverKey])
        #expect(missing.status == 2 && missing.stderr.contains("cannot load a certificate from"), "\(missing.stderr)")
        let notAKey = try answer(["--tls-cert", pki.serverCertificate, "--tls-key", pki.caFile])
        #expect(notAKey.status == 2 && notAKey.stderr.contains("cannot load a private key from"), "\(notAKey.stderr)")
        let otherKey = try answer(["--tls-cert", pki.serverCertificate, "--tls-key", pki.path("ca.key")])
        #expect(otherKey.status == 2 && otherKey.stderr.contains("does not belong to the certificate"), "\(otherKey.stderr)")
        let noCA = try run(try iceAgentPath(), ["call", "https://127.0.0.1:\(port)/whip", "--signal-ca", pki.path("nothing.pem")],
                           timeout: 10)
        #expect(noCA.status == 2 && noCA.stderr.contains("--signal-ca: cannot load CA certificates"), "\(noCA.stderr)")
        let caForHTTP = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--signal-ca", pki.caFile], timeout: 10)
        #expect(caForHTTP.status == 2, "\(caForHTTP.stderr)")
        let help = try run(try iceAgentPath(), ["answer", "--help"], timeout: 10)
        #expect(help.stdout.contains("--tls-cert") && help.stdout.contains("--tls-key") && help.stdout.contains("--signal-ca"),
                "\(help.stdout)")
    }
}
