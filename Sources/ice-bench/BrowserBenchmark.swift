import CLinux
import Common
import DTLS
import Runtime

/// `ice-bench browser`: what the DTLS-SRTP handshake (RFC 5764 §4.1) adds after ICE when
/// headless Chromium is the viewer, for ice-agent and for aiortc as the answerer, interleaved
/// over `runs` calls each, against the round trip between the two namespaces. Chromium,
/// GStreamer and aiortc need real processes in network namespaces, which
/// interop/browser/bench_browser.py drives (see interop/browser/README.md); this first takes
/// the crypto the goal allows (the CPU of one whole handshake in memory, as `ice-bench dtls`
/// does) and passes it on. Runs the ice-agent built next to this ice-bench, or
/// .build/release/ice-agent. Run from the package root, as root. Exit 2 when something is
/// missing (the message names the install command), 1 when a stack had no measured run.
func runBrowserBenchmark(runs: Int) -> Int32 {
    guard let agent = driverAgent("browser") else { return 2 }
    guard let crypto = handshakeCrypto(runs: 20) else {
        printError("ice-bench browser: the in-memory DTLS handshake did not complete")
        return 1
    }
    let arguments = "--runs \(runs) --ice-agent '\(agent)' --crypto-ms \(milliseconds(crypto.total)) --client-crypto-ms \(milliseconds(crypto.client)) "
        + "--cold-client-crypto-ms \(milliseconds(crypto.coldClient)) --crypto-wall-ms \(milliseconds(crypto.wall)) --schedstat"
    return runDriver("browser", script: "interop/browser/bench_browser.py", arguments: arguments,
                     missing: "Chromium, GStreamer or aiortc is missing")
}

/// The median CPU of a whole handshake, both ends in memory (the "crypto" of the goal), and
/// of the client's part alone: ice-agent answers Chromium's actpass offer as DTLS client
/// (RFC 5763 §5), so that part is its own work against Chromium. `coldClient`: the client's
/// part in an identity's first handshake (loaded from PEM, as ice-agent loads its own), which
/// each benchmark run's fresh ice-agent pays: mbedTLS builds its P-256 tables in the key as it
/// first signs. `wall`: the whole handshake's elapsed time, against `total` the share of the
/// time this process waited for a core on the machine as it is.
private func handshakeCrypto(runs: Int) -> (total: Int64, client: Int64, coldClient: Int64, wall: Int64)? {
    var random = SystemRandom()
    let clientIdentity: DTLSIdentity, serverIdentity: DTLSIdentity
    do throws(DTLSError) {
        clientIdentity = try DTLSIdentity.generate(random: &random)
        serverIdentity = try DTLSIdentity.generate(random: &random)
    } catch {
        return nil
    }
    var total: [Int64] = [], client: [Int64] = [], cold: [Int64] = [], wall: [Int64] = []
    for run in 0...runs {
        let start = monotonicNow()
        guard let r = splitHandshake(client: clientIdentity, server: serverIdentity, random: &random) else { return nil }
        // The first run warms caches and lazily set-up tables.
        if run > 0 {
            wall.append((monotonicNow() - start).nanoseconds)
            total.append(r.client + r.server)
            client.append(r.client)
        }
    }
    for _ in 0..<max(1, runs / 4) {
        let pem: [UInt8]
        do throws(DTLSError) { pem = try DTLSIdentity.generate(random: &random).pem() } catch { return nil }
        let parsed = pem.withUnsafeBytes { b -> DTLSIdentity? in
            do throws(DTLSError) { return try DTLSIdentity(pem: b) } catch { return nil }
        }
        guard let fresh = parsed else { return nil }
        guard let r = splitHandshake(client: fresh, server: serverIdentity, random: &random) else { return nil }
        cold.append(r.client)
    }
    return (percentile(total, 0.5), percentile(client, 0.5), percentile(cold, 0.5), percentile(wall, 0.5))
}

/// One handshake in memory with each endpoint's CPU counted apart (the process's CPU clock
/// around each one's calls), in ns; nil when it did not complete.
private func splitHandshake(client clientIdentity: DTLSIdentity, server serverIdentity: DTLSIdentity,
                            random: inout SystemRandom) -> (client: Int64, server: Int64)? {
    var clientCPU: Int64 = 0, serverCPU: Int64 = 0
    var mark = cpuTime()
    func charge(_ cpu: inout Int64) {
        let now = cpuTime()
        cpu += now.nanoseconds - mark.nanoseconds
        mark = now
    }
    let client: DTLSEndpoint, server: DTLSEndpoint
    do throws(DTLSError) {
        client = try DTLSEndpoint(role: .client, identity: clientIdentity, remoteFingerprint: serverIdentity.fingerprint,
                                  random: &random)
        charge(&clientCPU)
        server = try DTLSEndpoint(role: .server, identity: serverIdentity, remoteFingerprint: clientIdentity.fingerprint,
                                  random: &random)
        charge(&serverCPU)
    } catch {
        return nil
    }
    let now = Instant.zero
    server.start(now: now)
    charge(&serverCPU)
    client.start(now: now)
    charge(&clientCPU)
    var rounds = 0
    while rounds < 20 && (client.state == .handshaking || server.state == .handshaking || client.state == .new) {
        rounds += 1
        var flight: [[UInt8]] = []
        while let d = client.pollTransmit() { flight.append(d) }
        charge(&clientCPU)
        for d in flight { d.withUnsafeBytes { server.handle(datagram: $0, now: now) } }
        flight.removeAll()
        while let d = server.pollTransmit() { flight.append(d) }
        charge(&serverCPU)
        for d in flight { d.withUnsafeBytes { client.handle(datagram: $0, now: now) } }
        charge(&clientCPU)
    }
    guard client.state == .connected, server.state == .connected else { return nil }
    return (clientCPU, serverCPU)
}
