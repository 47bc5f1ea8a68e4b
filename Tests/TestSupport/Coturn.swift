import Foundation

/// A coturn on 127.0.0.1 (or `listeningIP`) with long-term credentials test:secret in realm
/// example.org. UDP and TCP on `port`; with `tls`, also a TLS listener on `tlsPort` with the
/// test CA's server certificate.
public struct Coturn {
    public let process: Background
    public let port: UInt16
    public let tlsPort: UInt16?
    public let minPort: UInt16
    public let maxPort: UInt16
    public let logPath: String
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

public func startCoturn(_ extra: [String] = [], tls: TestCertificates? = nil, listeningIP: String = "127.0.0.1",
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
