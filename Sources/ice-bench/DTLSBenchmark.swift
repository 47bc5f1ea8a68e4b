import Common
import Daemon
import DTLS
import ICE
import Runtime
import SDP

// `ice-bench dtls`: what DTLS-SRTP (RFC 5764) adds before media flows: generating an identity,
// the handshake's crypto alone (two endpoints in memory), and the handshake on loopback
// through the demo, from the selected pair to both ends keyed, against the loopback RTT.

/// Two endpoints in memory, flights handed over until both are keyed; the time from making
/// the endpoints to both connected, in ns, or nil when the handshake did not complete.
func memoryHandshake(client clientIdentity: DTLSIdentity, server serverIdentity: DTLSIdentity,
                     random: inout SystemRandom) -> (ns: Int64, cpu: Int64, roundTrips: Int, profile: SRTPProfile)? {
    let start = monotonicNow(), cpuStart = cpuTime()
    let client: DTLSEndpoint, server: DTLSEndpoint
    do throws(DTLSError) {
        client = try DTLSEndpoint(role: .client, identity: clientIdentity, remoteFingerprint: serverIdentity.fingerprint,
                                  random: &random)
        server = try DTLSEndpoint(role: .server, identity: serverIdentity, remoteFingerprint: clientIdentity.fingerprint,
                                  random: &random)
    } catch {
        return nil
    }
    let now = Instant.zero
    server.start(now: now)
    client.start(now: now)
    var rounds = 0
    // A client flight that the server answers is one round trip on a network (RFC 6347
    // §4.2.4: 2 without a cookie exchange, 3 with HelloVerifyRequest).
    var roundTrips = 0
    while rounds < 20 && (client.state == .handshaking || server.state == .handshaking || client.state == .new) {
        rounds += 1
        var clientSent = false
        while let d = client.pollTransmit() {
            clientSent = true
            d.withUnsafeBytes { server.handle(datagram: $0, now: now) }
        }
        if clientSent { roundTrips += 1 }
        while let d = server.pollTransmit() { d.withUnsafeBytes { client.handle(datagram: $0, now: now) } }
    }
    let end = monotonicNow(), cpuEnd = cpuTime()
    guard client.state == .connected, server.state == .connected, case .connected(let keys) = client.pollEvent() else { return nil }
    return ((end - start).nanoseconds, cpuEnd.nanoseconds - cpuStart.nanoseconds, roundTrips, keys.profile)
}

/// Notes, on every turn of the demo's loop, when both sessions first have a selected pair
/// (the DTLS client starts then, RFC 5764 §4.1, RFC 8445 §12) and when both are keyed.
final class KeyingProbe: TimerClient {
    let call: DemoTopology
    var pairsAt: Instant? = nil
    /// The process's CPU time at `pairsAt` and at `keyedAt`.
    var pairsCPU = Interval(nanoseconds: 0)
    var keyedCPU = Interval(nanoseconds: 0)
    var completedAt: Instant? = nil
    var keyedAt: Instant? = nil
    var next = Instant.zero

    init(_ call: DemoTopology) { self.call = call }

    var nextDeadline: Instant? { keyedAt == nil ? next : nil }

    func handleTimeout(now: Instant) {
        let d = call.doorbell, h = call.home
        if pairsAt == nil && d.agent.selectedPair() != nil && h.agent.selectedPair() != nil {
            pairsAt = now
            pairsCPU = cpuTime()
        }
        if completedAt == nil && call.completed { completedAt = now }
        if keyedAt == nil && d.connection.mediaKeyed == true && h.connection.mediaKeyed == true {
            keyedAt = now
            keyedCPU = cpuTime()
            if pairsAt == nil {
                pairsAt = now
                pairsCPU = keyedCPU
            }
        }
        // Every 20 µs: fine against a loopback round trip, without spinning the loop.
        next = now + Interval(nanoseconds: 20_000)
    }
}

/// UDP ping-pong between two sockets on one loop, the way the demo's two sessions exchange
/// datagrams: the round trip the handshake's flights pay.
final class RTTProbe: TimerClient {
    let loop: EventLoop
    let pinger: UDPSocket
    let echo: UDPSocket
    let count: Int
    var samples: [Int64] = []
    var sentAt: Instant? = nil
    var next: Instant? = .zero
    var buffer = [UInt8](repeating: 0, count: 64)

    final class Reader: ReadableHandler {
        let action: (Instant) -> Void
        init(_ action: @escaping (Instant) -> Void) { self.action = action }
        func readable(now: Instant) { action(now) }
    }
    var readers: [Reader] = []

    init(loop: EventLoop, count: Int) throws(SocketError) {
        self.loop = loop
        self.count = count
        pinger = try UDPSocket(bind: TransportAddress(.v4Loopback, 0))
        echo = try UDPSocket(bind: TransportAddress(.v4Loopback, 0))
        let echoReader = Reader { [unowned self] _ in
            self.buffer.withUnsafeMutableBytes { b in
                while let (n, from) = (try? self.echo.tryReceive(into: b)) ?? nil {
                    try? self.echo.send(UnsafeRawBufferPointer(rebasing: b[0..<n]), to: from)
                }
            }
        }
        let pingReader = Reader { [unowned self] now in
            self.buffer.withUnsafeMutableBytes { b in
                while (try? self.pinger.tryReceive(into: b)) ?? nil != nil {
                    if let s = self.sentAt { self.samples.append((monotonicNow() - s).nanoseconds) }
                    self.sentAt = nil
                    self.next = self.samples.count < self.count ? now + .milliseconds(1) : nil
                }
            }
        }
        readers = [echoReader, pingReader]
        try? loop.register(fd: echo.descriptor, echoReader)
        try? loop.register(fd: pinger.descriptor, pingReader)
        loop.addTimerClient(self)
    }

    var done: Bool { samples.count >= count }
    var nextDeadline: Instant? { next }

    func handleTimeout(now: Instant) {
        next = nil
        buffer.withUnsafeBytes { b in
            sentAt = monotonicNow()
            try? pinger.send(UnsafeRawBufferPointer(rebasing: b[0..<32]), to: echo.localAddress)
        }
    }

    func close() {
        loop.removeTimerClient(self)
        loop.unregister(fd: echo.descriptor)
        loop.unregister(fd: pinger.descriptor)
    }
}

/// `ice-bench dtls`: identity generation and the in-memory handshake, `cryptoRuns` times
/// each (identities generated once for the handshakes, fresh endpoints each run), and
/// `loopbackRuns` demo calls with DTLS-SRTP on loopback. Medians and p90.
func runDTLSBenchmark(cryptoRuns: Int, loopbackRuns: Int) -> Int32 {
    var random = SystemRandom()
    var generate: [Int64] = []
    var generateCPU: [Int64] = []
    var identities: [DTLSIdentity] = []
    for _ in 0..<cryptoRuns {
        let t0 = monotonicNow(), c0 = cpuTime()
        do throws(DTLSError) { identities.append(try DTLSIdentity.generate(random: &random)) } catch {
            printError("dtls: identity generation failed: \(error.description)")
            return 1
        }
        generate.append((monotonicNow() - t0).nanoseconds)
        generateCPU.append(cpuTime().nanoseconds - c0.nanoseconds)
    }
    print("dtls-identity-generate: median \(milliseconds(percentile(generate, 0.5))) ms, p90 \(milliseconds(percentile(generate, 0.9))) ms over \(cryptoRuns) (ECDSA P-256, self-signed); CPU median \(milliseconds(percentile(generateCPU, 0.5))) ms")

    var handshakes: [Int64] = []
    var handshakeCPU: [Int64] = []
    var profile: SRTPProfile? = nil
    var roundTrips = 0
    let clientIdentity = identities[0], serverIdentity = identities[identities.count > 1 ? 1 : 0]
    _ = memoryHandshake(client: clientIdentity, server: serverIdentity, random: &random)
    for _ in 0..<cryptoRuns {
        guard let r = memoryHandshake(client: clientIdentity, server: serverIdentity, random: &random) else {
            printError("dtls: the in-memory handshake did not complete")
            return 1
        }
        handshakes.append(r.ns)
        handshakeCPU.append(r.cpu)
        profile = r.profile
        roundTrips = max(roundTrips, r.roundTrips)
    }
    let crypto = percentile(handshakeCPU, 0.5)
    print("dtls-handshake-memory: median \(milliseconds(percentile(handshakes, 0.5))) ms, p90 \(milliseconds(percentile(handshakes, 0.9))) ms over \(cryptoRuns) (fresh endpoints, \(profile.map { srtpProfileLabel($0) } ?? "?")); CPU median \(milliseconds(crypto)) ms, p90 \(milliseconds(percentile(handshakeCPU, 0.9))) ms")

    var loopback: [Int64] = []
    var loopbackCPU: [Int64] = []
    var afterCompleted: [Int64] = []
    var rtts: [Int64] = []
    for run in 0..<loopbackRuns {
        guard let call = benchTopology("dtls", security: .dtlsSrtp) else { return 1 }
        let probe = KeyingProbe(call)
        call.loop.addTimerClient(probe)
        call.start(now: monotonicNow())
        let keyed = drive([call.loop], timeout: .seconds(10)) { probe.keyedAt != nil && probe.completedAt != nil }
        guard keyed, let pairs = probe.pairsAt, let at = probe.keyedAt, let completed = probe.completedAt else {
            printError("dtls: run \(run + 1): the call was not keyed within 10 s (\(call.states), keyed doorbell "
                + "\(String(describing: call.doorbell.connection.mediaKeyed)), home \(String(describing: call.home.connection.mediaKeyed)))")
            call.close()
            return 1
        }
        loopback.append(max(0, (at - pairs).nanoseconds))
        loopbackCPU.append(max(0, probe.keyedCPU.nanoseconds - probe.pairsCPU.nanoseconds))
        afterCompleted.append(max(0, (at - completed).nanoseconds))
        call.loop.removeTimerClient(probe)
        do throws(SocketError) {
            let rtt = try RTTProbe(loop: call.loop, count: 20)
            _ = drive([call.loop], timeout: .seconds(2)) { rtt.done }
            rtts += rtt.samples
            rtt.close()
        } catch {
            printError("dtls: RTT probe: \(error)")
        }
        call.close()
    }
    let x = percentile(loopback, 0.5), rtt = percentile(rtts, 0.5)
    print("dtls-handshake-loopback: median \(milliseconds(x)) ms, p90 \(milliseconds(percentile(loopback, 0.9))) ms over \(loopbackRuns) (both sessions' selected pair to both keyed); CPU median \(milliseconds(percentile(loopbackCPU, 0.5))) ms")
    print("dtls-keyed-after-completed: median \(milliseconds(percentile(afterCompleted, 0.5))) ms, p90 \(milliseconds(percentile(afterCompleted, 0.9))) ms (both ICE completed to both keyed; 0 when keyed first)")
    print("dtls-loopback-rtt: median \(milliseconds(rtt)) ms, p90 \(milliseconds(percentile(rtts, 0.9))) ms over \(rtts.count) (UDP ping-pong on the demo's loop)")
    // What is left once the round trips and the crypto are taken out: the loop's other work
    // and, on a shared machine, time waiting for a core.
    let other = x - Int64(roundTrips) * rtt - crypto
    print("dtls-handshake-adds: \(milliseconds(x)) ms = \(roundTrips) RTTs + crypto \(milliseconds(crypto)) ms + other \(other < 0 ? "-" : "")\(milliseconds(other < 0 ? -other : other)) ms "
        + "(goal: at most 2 RTTs plus crypto; RTTs: client flights the server answered, counted in memory; crypto: the in-memory handshake's CPU median; "
        + "other: loop work and waiting for a core)")
    return 0
}
