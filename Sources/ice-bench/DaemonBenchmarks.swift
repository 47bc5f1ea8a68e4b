import CLinux
import Common
import Daemon
import ICE
import Runtime

// The daemon's own code on real loopback sockets, in one process and one event loop:
// `ice-bench rtp` (RTP forwarding cost against a plain UDP forwarder) and `ice-bench idle`
// (what a connected, silent session costs: wakeups, STUN packets, memory).

/// User + system CPU time of the whole process.
func cpuTime() -> Interval {
    var u = rusage()
    _ = getrusage(__rusage_who_t(ice_RUSAGE_SELF), &u)
    let us = (Int64(u.ru_utime.tv_sec) + Int64(u.ru_stime.tv_sec)) * 1_000_000 + Int64(u.ru_utime.tv_usec) + Int64(u.ru_stime.tv_usec)
    return Interval(nanoseconds: us * 1000)
}

/// Resident set size in kB (VmRSS of /proc/self/status).
func residentKilobytes() -> Int? {
    guard let bytes = readFile("/proc/self/status", limit: 64 * 1024) else { return nil }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

/// Calls `then` once both sessions are completed (checked every 10 ms), or stops the loop
/// after 10 s with `failed` set.
final class WaitForCompletion: TimerClient {
    let call: DemoTopology
    let deadline: Instant
    var then: ((Instant) -> Void)?
    var next = Instant.zero
    var failed = false

    init(_ call: DemoTopology, then: @escaping (Instant) -> Void) {
        self.call = call
        self.then = then
        deadline = monotonicNow() + .seconds(10)
    }

    var nextDeadline: Instant? { then == nil ? nil : next }

    func handleTimeout(now: Instant) {
        guard let t = then else { return }
        if call.completed {
            then = nil
            call.loop.removeTimerClient(self)
            t(now)
        } else if now >= deadline {
            then = nil
            failed = true
            call.loop.stop()
        } else {
            next = now + .milliseconds(10)
        }
    }
}

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

/// `ice-bench rtp`: RTP through the daemon (source -> doorbell --rtp-in -> selected pair ->
/// home -> --rtp-out -> sink), and through two plain UDP forwarders (source -> hop -> hop ->
/// sink), same bursts, same loop. After a warm-up of 1,000 packets each, three rounds of
/// `packets` alternate between the two paths; each figure is the best of its three rounds
/// (scheduler noise only ever makes things slower), drops are summed over all rounds.
func runRTPBenchmark(packets: Int) -> Int32 {
    Log.level = .warning
    Log.prefix = "ice-bench"
    let call: DemoTopology
    do throws(DemoTopology.Failure) { call = try DemoTopology() } catch {
        printError("rtp: setup failed: " + error.description)
        return 1
    }
    let sink: MediaSink
    let hops: [PlainForwarder]
    do {
        let loopback = IPAddress.v4Loopback
        sink = try MediaSink(bind: TransportAddress(loopback, 0), loop: call.loop)
        let hop2 = try PlainForwarder(bind: TransportAddress(loopback, 0), to: sink.socket.localAddress, loop: call.loop)
        let hop1 = try PlainForwarder(bind: TransportAddress(loopback, 0), to: hop2.socket.localAddress, loop: call.loop)
        hops = [hop1, hop2]
    } catch {
        printError("rtp: setup failed: \(error)")
        return 1
    }
    let loop = call.loop
    let rounds = 3
    // (through the daemon?, packets): warm-ups first, then alternating rounds.
    var steps: [(ice: Bool, packets: Int)] = [(true, 1000), (false, 1000)]
    for _ in 0..<rounds { steps += [(true, packets), (false, packets)] }
    var results: [(ice: Bool, result: BlastResult)] = []
    var blasters: [RTPBlaster] = []
    var failure: String? = nil
    func next() {
        guard results.count < steps.count else { return loop.stop() }
        let step = steps[results.count]
        let destination = step.ice ? call.doorbellIngress : hops[0].socket.localAddress
        let into = step.ice ? call.sink : sink
        do {
            blasters = [try RTPBlaster(to: destination, sink: into, total: step.packets, loop: loop) { r in
                results.append((step.ice, r))
                next()
            }]
        } catch {
            failure = "\(error)"
            loop.stop()
        }
    }
    let wait = WaitForCompletion(call) { _ in next() }
    loop.addTimerClient(wait)
    call.start(now: monotonicNow())
    do throws(EventLoop.Failure) { try loop.run() } catch {
        printError("rtp: event loop failed")
        return 1
    }
    _ = blasters
    if wait.failed {
        printError("rtp: the sessions did not complete (\(call.states))")
        return 1
    }
    if let failure {
        printError("rtp: \(failure)")
        return 1
    }
    func summary(ice: Bool) -> (pps: Double, cpu: Double, dropped: Int, received: Int) {
        let measured = results.dropFirst(2).filter { $0.ice == ice }.map { $0.result }
        return (measured.map { $0.packetsPerSecond }.max() ?? 0, measured.map { $0.cpuPerPacket }.min() ?? 0,
                measured.reduce(0) { $0 + $1.dropped }, measured.reduce(0) { $0 + $1.received })
    }
    let iceFigures = summary(ice: true), plainFigures = summary(ice: false)
    func line(_ name: String, _ f: (pps: Double, cpu: Double, dropped: Int, received: Int)) {
        print("\(name): \(Int(f.pps + 0.5)) packets/s, \(format(f.cpu)) ns CPU/packet, \(f.dropped) dropped")
    }
    line("rtp-ice-agent", iceFigures)
    line("rtp-plain-udp-forwarder", plainFigures)
    let ratio = plainFigures.cpu > 0 ? iceFigures.cpu / plainFigures.cpu : 0
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

/// Ends the idle measurement: one deadline, so it adds one wakeup.
final class IdleTimer: TimerClient {
    var at: Instant?
    let action: (Instant) -> Void
    init(at: Instant, _ action: @escaping (Instant) -> Void) {
        self.at = at
        self.action = action
    }
    var nextDeadline: Instant? { at }
    func handleTimeout(now: Instant) {
        at = nil
        action(now)
    }
}

/// `ice-bench idle`: two connected sessions on loopback, no media, for `seconds` of real time
/// (from 1 s after both completed). Prints event-loop wakeups per second, the STUN packets the
/// two sessions sent per second (consent requests and their responses) and the process's RSS.
func runIdleBenchmark(seconds: Int64) -> Int32 {
    Log.level = .warning
    Log.prefix = "ice-bench"
    let call: DemoTopology
    do throws(DemoTopology.Failure) { call = try DemoTopology() } catch {
        printError("idle: setup failed: " + error.description)
        return 1
    }
    let loop = call.loop
    var timers: [IdleTimer] = []
    var wakeups0 = 0, responses0 = 0, checks0 = 0
    var started = Instant.zero, ended = Instant.zero
    var wakeups = 0, responses = 0, checks = 0
    let settle = Interval.seconds(1)
    // Consent requests are not counted in checksSent (that counts connectivity checks only);
    // on a lossless link the requests one side sent are the responses its peer sent, so the
    // STUN packets of both sessions are twice the responses.
    func sample() -> (wakeups: Int, responses: Int, checks: Int) {
        let d = call.doorbell.agent.counters, h = call.home.agent.counters
        return (loop.wakeups, d.responsesSent + h.responsesSent, d.checksSent + h.checksSent)
    }
    let wait = WaitForCompletion(call) { now in
        let begin = IdleTimer(at: now + settle) { now in
            (wakeups0, responses0, checks0) = sample()
            started = now
            let end = IdleTimer(at: now + .seconds(seconds)) { now in
                (wakeups, responses, checks) = sample()
                ended = now
                loop.stop()
            }
            timers.append(end)
            loop.addTimerClient(end)
        }
        timers.append(begin)
        loop.addTimerClient(begin)
    }
    loop.addTimerClient(wait)
    call.start(now: monotonicNow())
    do throws(EventLoop.Failure) { try loop.run() } catch {
        printError("idle: event loop failed")
        return 1
    }
    if wait.failed {
        printError("idle: the sessions did not complete (\(call.states))")
        return 1
    }
    let elapsed = Double((ended - started).nanoseconds) / 1e9
    let stillUp = call.completed
    // Less the one wakeup of the timer that ends the measurement.
    print("idle-wakeups: \(format(Double(wakeups - wakeups0 - 1) / elapsed))/s")
    print("idle-stun-packets: \(format(Double(2 * (responses - responses0)) / elapsed))/s")
    print("idle-rss: \(residentKilobytes().map(String.init) ?? "?") kB")
    if checks != checks0 { print("note: \(checks - checks0) connectivity checks sent while idle") }
    if !stillUp { printError("idle: a session left completed: \(call.states)") }
    call.close()
    return stillUp ? 0 : 1
}

