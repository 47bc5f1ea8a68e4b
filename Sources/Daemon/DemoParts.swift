import Common
import ICE
import Runtime
import SDP
import STUN

// The parts of `ice-agent demo` that drive two sessions in one process: in-memory
// signaling, a STUN server, an RTP test source and a sink on the event loop. Also used by
// `ice-bench rtp` and `ice-bench idle`.

/// Signaling between two in-process sessions: each endpoint is one session's transport, and
/// what one sends waits in the other's inbox until that session polls it on its timer (never
/// re-entrantly from inside the sender's flush).
public final class InMemorySignaling {
    public final class Endpoint: SignalingTransport {
        var inbox = OwnerEvents<SignalingMessage>()
        /// The other session's transport; not a session, so neither holds the other's owner.
        var peer: Endpoint? = nil
        init() {}
        public func sendDescription(_ sdp: String) { peer?.inbox.push(.description(sdp), now: monotonicNow()) }
        public func sendCandidate(_ c: Candidate, local: Credentials) { peer?.inbox.push(.candidate(c), now: monotonicNow()) }
        public func sendEndOfCandidates(local: Credentials) { peer?.inbox.push(.endOfCandidates, now: monotonicNow()) }
        public func sendRestart(description: String, fragment: String) { sendDescription(description) }
        public var inboundDeadline: Instant? { inbox.deadline }
        public func pollInbound() -> SignalingMessage? { inbox.pop() }
    }

    /// Two joined endpoints: give one to each session.
    public static func pair() -> (Endpoint, Endpoint) {
        let a = Endpoint(), b = Endpoint()
        a.peer = b
        b.peer = a
        return (a, b)
    }
}

/// Sends a 20 ms cadence of RTP packets (PT 96, 1000 bytes of payload) while `running`.
public final class RTPTestSource: TimerClient {
    let socket: UDPSocket
    let destination: TransportAddress
    public var running = false
    var sequence: UInt16 = 0
    var timestamp: UInt32 = 0
    public internal(set) var sent = 0
    var next: Instant? = nil
    var packet = [UInt8](repeating: 0, count: 1012)

    public init(to destination: TransportAddress, loop: EventLoop) throws(SocketError) {
        self.destination = destination
        socket = try UDPSocket(bind: TransportAddress(destination.ip.isIPv4 ? .v4Loopback : .v6Loopback, 0))
        loop.addTimerClient(self)
    }

    public var nextDeadline: Instant? { running ? (next ?? .zero) : nil }

    public func handleTimeout(now: Instant) {
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
public final class MediaSink: ReadableHandler {
    public let socket: UDPSocket
    public internal(set) var packets = 0
    var buffer = [UInt8](repeating: 0, count: 2048)

    public init(bind: TransportAddress, loop: EventLoop) throws(SocketError) {
        socket = try UDPSocket(bind: bind)
        try? loop.register(fd: socket.descriptor, self)
    }

    public func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            while (try? socket.tryReceive(into: buf)) ?? nil != nil { packets += 1 }
        }
    }
}

/// Stops the loop when `done(now)` says so; checked every 50 ms, and at once when `wake`
/// names an earlier time (an event the owner waits for).
public final class Stopper: TimerClient {
    let loop: EventLoop
    let done: (Instant) -> Bool
    let wake: () -> Instant?
    var next: Instant = .zero

    public init(loop: EventLoop, wake: @escaping () -> Instant? = { nil }, _ done: @escaping (Instant) -> Bool) {
        self.loop = loop
        self.wake = wake
        self.done = done
    }

    public var nextDeadline: Instant? {
        guard let w = wake(), w < next else { return next }
        return w
    }

    public func handleTimeout(now: Instant) {
        if done(now) { loop.stop() }
        next = now + .milliseconds(50)
    }
}
