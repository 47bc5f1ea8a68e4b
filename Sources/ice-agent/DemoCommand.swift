import Common
import Daemon
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

    static let spec = CommandSpec<DemoCommand>(
        name: "demo", synopsis: "[--seconds N] [--log-level LEVEL]",
        about: "Home and doorbell on loopback with a STUN server and an RTP test source; prints the pair tables\n"
            + "and media counters. Exit status 0 only if media arrived.",
        options: [
            Option("--seconds", .value("N"), "how long to stream once connected (1..3600, default 3)") { c, v throws(UsageError) in
                c.seconds = try number(v, in: 1...3600, "--seconds takes 1..3600")
            },
            Option("--log-level", .value("LEVEL"), "error|warning|info|debug|trace") { _, v throws(UsageError) in
                try setLogLevel(v)
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try DemoCommand.spec.parse(arguments, into: &self)
    }

    /// Why the demo could not set itself up (typed: the device build has no `any Error`).
    enum DemoError: Error {
        case loop, socket(SocketError), session(SessionError)

        var description: String {
            switch self {
            case .loop: return "cannot create the event loop"
            case .socket(let e): return e.description
            case .session(let e): return e.description
            }
        }
    }

    func attempt<T, E: Error>(_ body: () throws(E) -> T, _ wrap: (E) -> DemoError) throws(DemoError) -> T {
        do throws(E) { return try body() } catch { throw wrap(error) }
    }

    func run() -> Int32 {
        let loopback = IPAddress.v4Loopback
        do throws(DemoError) {
            let loop = try attempt({ () throws(EventLoop.Failure) in try EventLoop() }, { _ in .loop })
            let stun = try attempt({ () throws(SocketError) in try StunServer(bind: TransportAddress(loopback, 0), loop: loop) }, { .socket($0) })
            Log.info("demo: STUN server on \(stun.socket.localAddress)")
            let home = try attempt({ () throws(SessionError) in
                try Session(name: "home", role: .controlled, stunServers: [stun.socket.localAddress], addresses: [loopback], loop: loop)
            }, { .session($0) })
            let doorbell = try attempt({ () throws(SessionError) in
                try Session(name: "doorbell", role: .controlling, stunServers: [stun.socket.localAddress], addresses: [loopback], loop: loop)
            }, { .session($0) })
            let sink = try attempt({ () throws(SocketError) in try MediaSink(bind: TransportAddress(loopback, 0), loop: loop) }, { .socket($0) })
            try attempt({ () throws(SessionError) in try doorbell.attachMedia(rtpIn: TransportAddress(loopback, 0), rtpOut: nil) }, { .session($0) })
            try attempt({ () throws(SessionError) in try home.attachMedia(rtpIn: nil, rtpOut: sink.socket.localAddress) }, { .session($0) })
            let signaling = InMemorySignaling(loop: loop)
            doorbell.signaling = signaling.endpoint(to: home)
            home.signaling = signaling.endpoint(to: doorbell)
            let source = try attempt({ () throws(SocketError) in try RTPTestSource(to: doorbell.rtpIn!.localAddress, loop: loop) }, { .socket($0) })
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
            try attempt({ () throws(EventLoop.Failure) in try loop.run() }, { _ in .loop })
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
            Log.error("demo: " + error.description)
            return 1
        }
    }
}
