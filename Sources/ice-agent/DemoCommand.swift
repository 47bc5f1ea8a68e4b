import Common
import ICE
import RTP
import Runtime
import STUN

/// `ice-agent demo`: the whole job on this machine. A home and a doorbell session on
/// loopback, the built-in STUN server, a built-in RTP test source feeding the doorbell's
/// ingress port, and a sink standing in for the home's speaker/recorder. Streams for a few
/// seconds, prints the pair table and the media counters, exits 0 only if media arrived.
struct DemoCommand {
    var seconds: Int64 = 3

    init(arguments: [String]) throws(UsageError) {
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--seconds":
                guard i + 1 < arguments.count, let s = Int64(arguments[i + 1]), s > 0, s <= 3600 else {
                    throw UsageError("--seconds takes 1..3600")
                }
                seconds = s
                i += 2
            case "--log-level":
                guard i + 1 < arguments.count, let l = LogLevel(name: arguments[i + 1]) else { throw UsageError("--log-level: error|warning|info|debug|trace") }
                Log.level = l
                i += 2
            default:
                throw UsageError("unknown option for demo: " + arguments[i])
            }
        }
    }

    func run() -> Int32 {
        let loopback = IPAddress.v4Loopback
        do {
            let loop = try EventLoop()
            let stun = try StunServer(bind: TransportAddress(loopback, 0), loop: loop)
            Log.info("demo: STUN server on \(stun.socket.localAddress)")
            let home = try Session(name: "home", role: .controlled, stunServers: [stun.socket.localAddress],
                                   addresses: [loopback], loop: loop)
            let doorbell = try Session(name: "doorbell", role: .controlling, stunServers: [stun.socket.localAddress],
                                       addresses: [loopback], loop: loop)
            let sink = try MediaSink(bind: TransportAddress(loopback, 0), loop: loop)
            try doorbell.attachMedia(rtpIn: TransportAddress(loopback, 0), rtpOut: nil)
            try home.attachMedia(rtpIn: nil, rtpOut: sink.socket.localAddress)
            let signaling = InMemorySignaling(loop: loop)
            doorbell.signaling = signaling.endpoint(to: home)
            home.signaling = signaling.endpoint(to: doorbell)
            let source = try RTPTestSource(to: doorbell.rtpIn!.localAddress, loop: loop)
            let start = monotonicNow()
            doorbell.start(now: start)
            home.start(now: start)
            // Connect (at most 10 s), then stream for `seconds`.
            var streamingSince: Instant? = nil
            let stopper = Stopper(loop: loop) { now in
                if streamingSince == nil, doorbell.agent.state == .completed, home.agent.state == .completed {
                    streamingSince = now
                    Log.info("demo: connected in \((now - start).milliseconds) ms; streaming for \(self.seconds) s")
                    source.running = true
                }
                if let since = streamingSince { return now >= since + .seconds(self.seconds) }
                return now >= start + .seconds(10)
            }
            loop.addTimerClient(stopper)
            try loop.run()
            source.running = false
            print("doorbell candidate pairs:")
            print(doorbell.agent.pairTable)
            print("home candidate pairs:")
            print(home.agent.pairTable)
            print("media: source sent \(source.sent) RTP packets; doorbell forwarded \(doorbell.toPeer.packets) "
                + "(\(doorbell.toPeer.bytes) bytes); home received \(home.fromPeer.packets) (gaps \(home.fromPeer.sequenceGaps), "
                + "late \(home.fromPeer.lateOrDuplicate)); sink got \(sink.packets)")
            let ok = sink.packets > 0
            print(ok ? "demo: media arrived: OK" : "demo: FAILED: no media arrived (doorbell \(doorbell.agent.state.name.description), home \(home.agent.state.name.description))")
            doorbell.close()
            home.close()
            return ok ? 0 : 1
        } catch {
            Log.error("demo: \(error)")
            return 1
        }
    }
}

/// Delivers signaling between two in-process sessions on the next loop turn (never
/// re-entrantly from inside the sender's flush).
final class InMemorySignaling: TimerClient {
    enum Item {
        case description(String)
        case candidate(Candidate)
        case endOfCandidates
    }
    var queue: [(Session, Item)] = []

    init(loop: EventLoop) { loop.addTimerClient(self) }

    final class Endpoint: SignalingSink {
        let owner: InMemorySignaling
        let target: Session
        init(_ owner: InMemorySignaling, _ target: Session) {
            self.owner = owner
            self.target = target
        }
        func sendDescription(_ sdp: String) { owner.queue.append((target, .description(sdp))) }
        func sendCandidate(_ c: Candidate) { owner.queue.append((target, .candidate(c))) }
        func sendEndOfCandidates() { owner.queue.append((target, .endOfCandidates)) }
    }

    func endpoint(to target: Session) -> Endpoint { Endpoint(self, target) }

    var nextDeadline: Instant? { queue.isEmpty ? nil : .zero }

    func handleTimeout(now: Instant) {
        let items = queue
        queue.removeAll()
        for (session, item) in items {
            switch item {
            case .description(let sdp):
                do throws(SDPErrorBox) { try deliver(sdp, to: session, now: now) } catch { Log.error("demo: bad description") }
            case .candidate(let c): session.receiveCandidate(c, now: now)
            case .endOfCandidates: session.receiveEndOfCandidates(now: now)
            }
        }
    }

    struct SDPErrorBox: Error {}
    func deliver(_ sdp: String, to s: Session, now: Instant) throws(SDPErrorBox) {
        do { try s.receiveDescription(sdp, now: now) } catch { throw SDPErrorBox() }
    }
}

/// The built-in STUN server on the event loop.
final class StunServer: ReadableHandler {
    let socket: UDPSocket
    let responder: BindingResponder
    var input = [UInt8](repeating: 0, count: 2048)
    var output = [UInt8](repeating: 0, count: 1024)

    init(bind: TransportAddress, loop: EventLoop) throws {
        socket = try UDPSocket(bind: bind)
        responder = BindingResponder(primary: socket.localAddress, software: "ice-agent 0.1.0")
        try loop.register(fd: socket.descriptor, self)
    }

    func readable(now: Instant) {
        input.withUnsafeMutableBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                while let (n, from) = (try? socket.tryReceive(into: inBuf)) ?? nil {
                    guard let m = try? Message(parsing: UnsafeRawBufferPointer(rebasing: inBuf[0..<n])),
                          let r = responder.respond(to: m, from: from, on: socket.localAddress, into: outBuf) else { continue }
                    try? socket.send(UnsafeRawBufferPointer(rebasing: outBuf[0..<r.count]), to: r.to)
                }
            }
        }
    }
}

/// Sends a 20 ms cadence of RTP packets (PT 96, 1000 bytes of payload) while `running`.
final class RTPTestSource: TimerClient {
    let socket: UDPSocket
    let destination: TransportAddress
    var running = false
    var sequence: UInt16 = 0
    var timestamp: UInt32 = 0
    var sent = 0
    var next: Instant? = nil
    var packet = [UInt8](repeating: 0, count: 1012)

    init(to destination: TransportAddress, loop: EventLoop) throws {
        self.destination = destination
        socket = try UDPSocket(bind: TransportAddress(destination.ip.isIPv4 ? .v4Loopback : .v6Loopback, 0))
        loop.addTimerClient(self)
    }

    var nextDeadline: Instant? { running ? (next ?? .zero) : nil }

    func handleTimeout(now: Instant) {
        guard running else { return }
        packet[0] = 0x80
        packet[1] = 96
        packet[2] = UInt8(sequence >> 8)
        packet[3] = UInt8(sequence & 0xFF)
        for i in 0..<4 { packet[4 + i] = UInt8((timestamp >> (24 - 8 * UInt32(i))) & 0xFF) }
        packet[8] = 0xCA; packet[9] = 0xFE; packet[10] = 0xD0; packet[11] = 0x0D
        packet.withUnsafeBytes { try? socket.send($0, to: destination) }
        sequence &+= 1
        timestamp &+= 1800  // 90 kHz clock, 20 ms
        sent += 1
        next = now + .milliseconds(20)
    }
}

/// Counts what the home side forwards to its local egress address.
final class MediaSink: ReadableHandler {
    let socket: UDPSocket
    var packets = 0
    var buffer = [UInt8](repeating: 0, count: 2048)

    init(bind: TransportAddress, loop: EventLoop) throws {
        socket = try UDPSocket(bind: bind)
        try loop.register(fd: socket.descriptor, self)
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            while (try? socket.tryReceive(into: buf)) ?? nil != nil { packets += 1 }
        }
    }
}

/// Stops the loop when `done(now)` says so; checked every 50 ms.
final class Stopper: TimerClient {
    let loop: EventLoop
    let done: (Instant) -> Bool
    var next: Instant = .zero

    init(loop: EventLoop, _ done: @escaping (Instant) -> Bool) {
        self.loop = loop
        self.done = done
    }

    var nextDeadline: Instant? { next }

    func handleTimeout(now: Instant) {
        if done(now) { loop.stop() }
        next = now + .milliseconds(50)
    }
}
