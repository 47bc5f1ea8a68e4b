import AllocationCounter
import Common
import Daemon
import ICE
import Runtime
import SDP

// `ice-bench rtp`: the cost of forwarding RTP through the daemon against a plain UDP forwarder.

/// Receives and forwards every datagram to one address: the plain-UDP baseline for one hop.
final class PlainForwarder: ReadableHandler {
    let socket: UDPSocket
    let destination: TransportAddress
    var buffer = [UInt8](repeating: 0, count: 2048)

    init(bind: TransportAddress, to destination: TransportAddress, loop: EventLoop) throws {
        socket = try UDPSocket(bind: bind)
        self.destination = destination
        try loop.register(fd: socket.descriptor, self)
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            while let (n, _) = (try? socket.tryReceive(into: buf)) ?? nil {
                try? socket.send(UnsafeRawBufferPointer(rebasing: buf[0..<n]), to: destination)
            }
        }
    }
}

/// What one blast measured.
struct BlastResult {
    var packets = 0
    var received = 0
    var wall = Interval(nanoseconds: 0)
    var cpu = Interval(nanoseconds: 0)
    var dropped: Int { packets - received }
    var packetsPerSecond: Double { wall.nanoseconds > 0 ? Double(received) * 1e9 / Double(wall.nanoseconds) : 0 }
    var cpuPerPacket: Double { packets > 0 ? Double(cpu.nanoseconds) / Double(packets) : 0 }
}

/// Sends `total` RTP packets (PT 96, 1000 bytes of payload) to `destination` in bursts, the
/// next burst only while no more than `window` packets are between the source and `sink`, so
/// that socket buffers never overflow. A window that stays full for `stallTimeout` (a packet
/// lost somewhere) is written off, and the packets count as dropped. Calls `done` once all
/// arrived or nothing has moved for `stallTimeout` after the last send.
final class RTPBlaster: TimerClient {
    let socket: UDPSocket
    let destination: TransportAddress
    let sink: MediaSink
    let loop: EventLoop
    let total: Int
    let burst: Int
    let window: Int
    static let stallTimeout = Interval.milliseconds(50)
    var done: ((BlastResult) -> Void)?
    var sent = 0
    var writtenOff = 0
    let sinkBase: Int
    var lastReceived = 0
    var lastProgress = Instant.zero
    var started = Instant.zero
    /// The next burst is due on the loop's next turn, after the hops' sockets are read, but
    /// never at the instant just handled (the event loop's deadline invariant).
    var nextBurst = Instant.zero
    var cpuStarted = Interval(nanoseconds: 0)
    /// The process's allocation count when the last packet arrived (`ice-bench alloc-check`).
    var allocationsAtEnd = 0
    var packet = [UInt8](repeating: 0, count: 1012)
    var sequence: UInt16 = 0
    var timestamp: UInt32 = 0

    /// `firstSequence`: where the RTP sequence numbers start; a blast that follows another to
    /// the same SRTP receiver continues its numbering, or the replay check drops it (RFC 3711
    /// §3.3.2).
    init(to destination: TransportAddress, sink: MediaSink, total: Int, burst: Int = 32, window: Int = 256, loop: EventLoop,
         firstSequence: UInt16 = 0, done: @escaping (BlastResult) -> Void) throws {
        socket = try UDPSocket(bind: TransportAddress(.v4Loopback, 0))
        self.destination = destination
        self.sink = sink
        self.loop = loop
        self.total = total
        self.burst = burst
        self.window = window
        self.done = done
        sinkBase = sink.packets
        sequence = firstSequence
        timestamp = UInt32(firstSequence) &* 3000
        packet[0] = 0x80
        packet[1] = 96
        packet[8] = 0xCA; packet[9] = 0xFE; packet[10] = 0xD0; packet[11] = 0x0D
        for i in 12..<packet.count { packet[i] = UInt8(truncatingIfNeeded: i) }
        started = monotonicNow()
        cpuStarted = cpuTime()
        lastProgress = started
        loop.addTimerClient(self)
    }

    var received: Int { sink.packets - sinkBase }
    var inFlight: Int { max(0, sent - received - writtenOff) }

    var nextDeadline: Instant? {
        guard done != nil else { return nil }
        if received >= total { return .zero }
        if sent < total && inFlight + burst <= window { return nextBurst }
        return lastProgress + Self.stallTimeout
    }

    func handleTimeout(now: Instant) {
        guard let finish = done else { return }
        let r = received
        if r != lastReceived {
            lastReceived = r
            lastProgress = now
        }
        if r < total && now >= lastProgress + Self.stallTimeout {
            if sent >= total {
                return end(now: now, finish)
            }
            writtenOff += inFlight
            lastProgress = now
        }
        if r >= total { return end(now: now, finish) }
        if sent < total && inFlight + burst <= window {
            packet.withUnsafeMutableBytes { p in
                for _ in 0..<min(burst, total - sent) {
                    p[2] = UInt8(sequence >> 8)
                    p[3] = UInt8(sequence & 0xFF)
                    for i in 0..<4 { p[4 + i] = UInt8((timestamp >> (24 - 8 * UInt32(i))) & 0xFF) }
                    try? socket.send(UnsafeRawBufferPointer(p), to: destination)
                    sequence &+= 1
                    timestamp &+= 3000
                    sent += 1
                }
            }
            lastProgress = now
            nextBurst = now + Interval(nanoseconds: 1)
        }
    }

    func end(now: Instant, _ finish: (BlastResult) -> Void) {
        // Before the loop's timer list is touched: removing a client copies the list the loop
        // is iterating, the harness's allocation, not the relay's.
        allocationsAtEnd = allocationCount
        done = nil
        loop.removeTimerClient(self)
        // A stall ends the run `stallTimeout` after the last packet moved: not counted as work.
        let last = received >= total ? now : lastProgress
        let result = BlastResult(packets: total, received: received, wall: last - started, cpu: Interval(nanoseconds: cpuTime().nanoseconds - cpuStarted.nanoseconds))
        finish(result)
    }
}

/// The baseline path: source -> hop -> hop -> `sink`, two plain UDP forwarders.
struct PlainPath {
    let sink: MediaSink
    let hops: [PlainForwarder]

    init(loop: EventLoop) throws {
        let loopback = IPAddress.v4Loopback
        sink = try MediaSink(bind: TransportAddress(loopback, 0), loop: loop)
        let hop2 = try PlainForwarder(bind: TransportAddress(loopback, 0), to: sink.socket.localAddress, loop: loop)
        let hop1 = try PlainForwarder(bind: TransportAddress(loopback, 0), to: hop2.socket.localAddress, loop: loop)
        hops = [hop1, hop2]
    }

    var ingress: TransportAddress { hops[0].socket.localAddress }
}

/// The best of a path's measured rounds.
struct RTPFigures {
    var packetsPerSecond: Double
    var cpuPerPacket: Double
    var dropped: Int
    var received: Int

    func line(_ name: String) -> String {
        "\(name): \(Int(packetsPerSecond + 0.5)) packets/s, \(format(cpuPerPacket)) ns CPU/packet, \(dropped) dropped"
    }
}

/// Which path a blast goes through.
enum RTPPath: Equatable {
    /// The demo with clear RTP (`--media-security none`).
    case clear
    /// The demo with DTLS-SRTP: protected on the doorbell, unprotected on the home.
    case srtp
    /// Two plain UDP forwarders.
    case plain
}

/// Blasts one step after the other, warm-ups first, then rounds cycling through the clear
/// daemon, the plain forwarders and the encrypted daemon. The two demos have their own loops
/// (the plain path shares the clear one's); each blast drives only its own.
final class RTPRounds {
    let clear: DemoTopology
    let secure: DemoTopology
    let plain: PlainPath
    var steps: [(path: RTPPath, packets: Int)] = [(.clear, 1000), (.plain, 1000), (.srtp, 1000)]
    static let warmUps = 3
    var results: [(path: RTPPath, result: BlastResult)] = []
    /// Each path's next RTP sequence number: one stream per path from start to end.
    var sequences: [UInt16] = [0, 0, 0]

    func nextSequence(_ path: RTPPath, _ packets: Int) -> UInt16 {
        let i = path == .clear ? 0 : path == .srtp ? 1 : 2
        let first = sequences[i]
        sequences[i] = first &+ UInt16(truncatingIfNeeded: packets)
        return first
    }

    init(clear: DemoTopology, secure: DemoTopology, plain: PlainPath, packets: Int, rounds: Int) {
        self.clear = clear
        self.secure = secure
        self.plain = plain
        for _ in 0..<rounds { steps += [(.clear, packets), (.plain, packets), (.srtp, packets)] }
    }

    /// Runs every step; a failure is said on stderr.
    func run() -> Bool {
        for step in steps {
            let call = step.path == .srtp ? secure : clear
            let destination = step.path == .plain ? plain.ingress : call.doorbellIngress
            let into = step.path == .plain ? plain.sink : call.sink
            var result: BlastResult? = nil
            do {
                let blaster = try RTPBlaster(to: destination, sink: into, total: step.packets, loop: call.loop,
                                             firstSequence: nextSequence(step.path, step.packets)) { result = $0 }
                let finished = drive([call.loop], timeout: .seconds(120), slice: .milliseconds(20)) { result != nil }
                guard finished, let r = result else {
                    printError("rtp: a blast did not finish (\(blaster.received) of \(step.packets) arrived)")
                    return false
                }
                results.append((step.path, r))
            } catch {
                printError("rtp: \(error)")
                return false
            }
        }
        return true
    }

    /// Scheduler noise only ever makes things slower: the best round of each figure; drops
    /// are summed.
    func figures(_ path: RTPPath) -> RTPFigures {
        let measured = results.dropFirst(Self.warmUps).filter { $0.path == path }.map { $0.result }
        return RTPFigures(packetsPerSecond: measured.map { $0.packetsPerSecond }.max() ?? 0,
                          cpuPerPacket: measured.map { $0.cpuPerPacket }.min() ?? 0,
                          dropped: measured.reduce(0) { $0 + $1.dropped }, received: measured.reduce(0) { $0 + $1.received })
    }
}

/// Two decimals.
func hundredths(_ v: Double) -> String {
    let h = Int(v * 100 + 0.5)
    return "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100)"
}

/// `ice-bench rtp`: RTP through the daemon (source -> doorbell --rtp-in -> selected pair ->
/// home -> --rtp-out -> sink), clear and with DTLS-SRTP, and through two plain UDP forwarders
/// (source -> hop -> hop -> sink), same bursts. After a warm-up of 1,000 packets each,
/// `rounds` rounds of `packets` cycle through the three paths; each figure is the best of its
/// rounds (scheduler noise only ever makes things slower), drops are summed over all rounds.
/// The encrypted blasts start only once both ends are keyed.
func runRTPBenchmark(packets: Int, rounds: Int = 3) -> Int32 {
    guard let clear = benchTopology("rtp", security: .none), let secure = benchTopology("rtp", security: .dtlsSrtp) else { return 1 }
    let plain: PlainPath
    do { plain = try PlainPath(loop: clear.loop) } catch {
        printError("rtp: setup failed: \(error)")
        return 1
    }
    let now = monotonicNow()
    clear.start(now: now)
    secure.start(now: now)
    guard drive([clear.loop, secure.loop], timeout: .seconds(10), until: { connectedAndKeyed(clear) && connectedAndKeyed(secure) }) else {
        printError("rtp: the sessions did not complete and key (clear: \(clear.states); srtp: \(secure.states), keyed "
            + "\(String(describing: secure.doorbell.connection.mediaKeyed))/\(String(describing: secure.home.connection.mediaKeyed)))")
        return 1
    }
    let steps = RTPRounds(clear: clear, secure: secure, plain: plain, packets: packets, rounds: rounds)
    guard steps.run() else { return 1 }
    let iceFigures = steps.figures(.clear), plainFigures = steps.figures(.plain), srtpFigures = steps.figures(.srtp)
    print(iceFigures.line("rtp-ice-agent"))
    print(plainFigures.line("rtp-plain-udp-forwarder"))
    let ratio = plainFigures.cpuPerPacket > 0 ? iceFigures.cpuPerPacket / plainFigures.cpuPerPacket : 0
    print("rtp-ratio: \(hundredths(ratio)) (ice-agent CPU/packet over plain forwarder)")
    print(srtpFigures.line("rtp-ice-agent-srtp"))
    let srtpCPU = plainFigures.cpuPerPacket > 0 ? srtpFigures.cpuPerPacket / plainFigures.cpuPerPacket : 0
    print("rtp-srtp-ratio: \(hundredths(srtpCPU)) (ice-agent with DTLS-SRTP CPU/packet over plain forwarder)")
    let rate = { (f: RTPFigures) in plainFigures.packetsPerSecond > 0 ? f.packetsPerSecond / plainFigures.packetsPerSecond : 0 }
    print("rtp-throughput: clear \(hundredths(rate(iceFigures)))x, srtp \(hundredths(rate(srtpFigures)))x the plain forwarder's packets/s "
        + "(goals: srtp >= 0.5x packets/s, clear <= 1.1x CPU/packet)")
    var ok = true
    for (label, call) in [("clear", clear), ("srtp", secure)] {
        let doorbell = call.doorbell, home = call.home
        let rejected = home.connection.mediaSecurity?.rejected ?? 0
        if doorbell.toPeer.invalid + home.fromPeer.invalid + home.droppedUnknownSource + home.droppedNotRTP + rejected > 0 {
            printError("rtp (\(label)): the daemon dropped packets: doorbell invalid \(doorbell.toPeer.invalid), home invalid \(home.fromPeer.invalid), "
                + "unknown source \(home.droppedUnknownSource), not RTP \(home.droppedNotRTP), SRTP rejected \(rejected)")
        }
        ok = ok && connectedAndKeyed(call)
        call.close()
    }
    return ok && iceFigures.received > 0 && plainFigures.received > 0 && srtpFigures.received > 0 ? 0 : 1
}
