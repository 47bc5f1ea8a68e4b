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

    func run() -> Int32 {
        let demo: DemoTopology
        let source: RTPTestSource
        do throws(DemoTopology.Failure) {
            demo = try DemoTopology()
            do throws(SocketError) { source = try RTPTestSource(to: demo.doorbellIngress, loop: demo.loop) } catch { throw .socket(error) }
        } catch {
            Log.error("demo: \(error.description)")
            return 1
        }
        let start = monotonicNow()
        demo.start(now: start)
        // Connect (at most 10 s), then stream for `seconds`.
        var streamingSince: Instant? = nil
        // Woken by the sessions' state changes, so the source starts when both completed; the
        // time printed is the one the sessions recorded, not when this noticed it.
        let stopper = Stopper(loop: demo.loop, wake: { demo.eventDeadline }) { now in
            demo.drainEvents()
            if streamingSince == nil, demo.completed, let completedAt = demo.completedAt {
                streamingSince = now
                Log.info("demo: connected in \(Self.milliseconds(completedAt - start)) ms; streaming for \(self.seconds) s")
                source.running = true
            }
            if let since = streamingSince { return now >= since + .seconds(self.seconds) }
            return now >= start + .seconds(10)
        }
        demo.loop.addTimerClient(stopper)
        guard runEventLoop(demo.loop, seconds: nil) else { return 1 }
        source.running = false
        let ok = report(demo, source: source)
        demo.close()
        return ok ? 0 : 1
    }

    /// "0.42": an interval in milliseconds with two decimals (a loopback connect takes less
    /// than one).
    static func milliseconds(_ i: Interval) -> String {
        let hundredths = (i.nanoseconds + 5_000) / 10_000
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The pair tables and media counters; true when media reached the sink.
    func report(_ demo: DemoTopology, source: RTPTestSource) -> Bool {
        let doorbell = demo.doorbell, home = demo.home
        print("doorbell candidate pairs:")
        print(doorbell.agent.pairTable)
        print("home candidate pairs:")
        print(home.agent.pairTable)
        print("media: source sent \(source.sent) RTP packets; doorbell forwarded \(doorbell.toPeer.packets) "
            + "(\(doorbell.toPeer.bytes) bytes); home received \(home.fromPeer.packets) (gaps \(home.fromPeer.sequenceGaps), "
            + "late \(home.fromPeer.lateOrDuplicate)); sink got \(demo.sink.packets)")
        let ok = demo.sink.packets > 0
        print(ok ? "demo: media arrived: OK" : "demo: FAILED: no media arrived (\(demo.states))")
        return ok
    }
}
