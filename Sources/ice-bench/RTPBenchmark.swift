import Common
import Daemon
import ICE
import Runtime

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
    var packet = [UInt8](repeating: 0, count: 1012)
    var sequence: UInt16 = 0
    var timestamp: UInt32 = 0

    init(to destination: TransportAddress, sink: MediaSink, total: Int, burst: Int = 32, window: Int = 256, loop: EventLoop,
         done: @escaping (BlastResult) -> Void) throws {
        socket = try UDPSocket(bind: TransportAddress(.v4Loopback, 0))
        self.destination = destination
        self.sink = sink
        self.loop = loop
        self.total = total
        self.burst = burst
        self.window = window
        self.done = done
        sinkBase = sink.packets
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

/// Blasts one step after the other, warm-ups first, then rounds alternating between the
/// daemon and the plain path; stops the loop after the last.
final class RTPRounds {
    let call: DemoTopology
    let plain: PlainPath
    /// (through the daemon?, packets)
    var steps: [(ice: Bool, packets: Int)] = [(true, 1000), (false, 1000)]
    static let warmUps = 2
    var results: [(ice: Bool, result: BlastResult)] = []
    var blaster: RTPBlaster? = nil
    var failure: String? = nil

    init(call: DemoTopology, plain: PlainPath, packets: Int, rounds: Int = 3) {
        self.call = call
        self.plain = plain
        for _ in 0..<rounds { steps += [(true, packets), (false, packets)] }
    }

    func next() {
        guard results.count < steps.count else { return call.loop.stop() }
        let step = steps[results.count]
        let destination = step.ice ? call.doorbellIngress : plain.ingress
        let into = step.ice ? call.sink : plain.sink
        do {
            blaster = try RTPBlaster(to: destination, sink: into, total: step.packets, loop: call.loop) { r in
                self.results.append((step.ice, r))
                self.next()
            }
        } catch {
            failure = "\(error)"
            call.loop.stop()
        }
    }

    /// Scheduler noise only ever makes things slower: the best round of each figure; drops
    /// are summed.
    func figures(ice: Bool) -> RTPFigures {
        let measured = results.dropFirst(Self.warmUps).filter { $0.ice == ice }.map { $0.result }
        return RTPFigures(packetsPerSecond: measured.map { $0.packetsPerSecond }.max() ?? 0,
                          cpuPerPacket: measured.map { $0.cpuPerPacket }.min() ?? 0,
                          dropped: measured.reduce(0) { $0 + $1.dropped }, received: measured.reduce(0) { $0 + $1.received })
    }
}

/// `ice-bench rtp`: RTP through the daemon (source -> doorbell --rtp-in -> selected pair ->
/// home -> --rtp-out -> sink), and through two plain UDP forwarders (source -> hop -> hop ->
/// sink), same bursts, same loop. After a warm-up of 1,000 packets each, three rounds of
/// `packets` alternate between the two paths; each figure is the best of its three rounds
/// (scheduler noise only ever makes things slower), drops are summed over all rounds.
func runRTPBenchmark(packets: Int) -> Int32 {
    guard let call = benchTopology("rtp") else { return 1 }
    let plain: PlainPath
    do { plain = try PlainPath(loop: call.loop) } catch {
        printError("rtp: setup failed: \(error)")
        return 1
    }
    let rounds = RTPRounds(call: call, plain: plain, packets: packets)
    guard runConnected(call, "rtp", connected: { _ in rounds.next() }) else { return 1 }
    if let failure = rounds.failure {
        printError("rtp: \(failure)")
        return 1
    }
    let iceFigures = rounds.figures(ice: true), plainFigures = rounds.figures(ice: false)
    print(iceFigures.line("rtp-ice-agent"))
    print(plainFigures.line("rtp-plain-udp-forwarder"))
    let ratio = plainFigures.cpuPerPacket > 0 ? iceFigures.cpuPerPacket / plainFigures.cpuPerPacket : 0
    let hundredths = Int(ratio * 100 + 0.5)
    print("rtp-ratio: \(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) (ice-agent CPU/packet over plain forwarder)")
    let doorbell = call.doorbell, home = call.home
    if doorbell.toPeer.invalid + home.fromPeer.invalid + home.droppedUnknownSource + home.droppedNotRTP > 0 {
        printError("rtp: the daemon dropped packets: doorbell invalid \(doorbell.toPeer.invalid), home invalid \(home.fromPeer.invalid), "
            + "unknown source \(home.droppedUnknownSource), not RTP \(home.droppedNotRTP)")
    }
    call.close()
    return iceFigures.received > 0 && plainFigures.received > 0 ? 0 : 1
}
