import Common
import ICE
import Runtime
import SDP

/// `ice-agent call` (the doorbell: controlling, offers) and `ice-agent answer` (home:
/// controlled), here with `--signal stdio`.
struct CallCommand {
    var role: Role
    var stunServers: [TransportAddress] = []
    var rtpIn: TransportAddress?
    var rtpOut: TransportAddress?
    var filter = InterfaceFilter()
    var duration: Int64?
    var signal = "stdio"

    init(role: Role, arguments: [String]) throws(UsageError) {
        self.role = role
        var i = 0
        func value() throws(UsageError) -> String {
            guard i + 1 < arguments.count else { throw UsageError(arguments[i] + " needs a value") }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--signal": signal = try value()
            case "--stun":
                let v = try value()
                guard let a = resolve(hostAndPort: v) else { throw UsageError("cannot resolve --stun " + v) }
                stunServers.append(a)
            case "--rtp-in": rtpIn = try parseAddress(try value())
            case "--rtp-out": rtpOut = try parseAddress(try value())
            case "--interface": filter.include.append(try value())
            case "--allow-loopback": filter.includeLoopback = true
            case "--duration":
                guard let d = Int64(try value()), d > 0 else { throw UsageError("--duration takes seconds > 0") }
                duration = d
            case "--log-level":
                guard let l = LogLevel(name: try value()) else { throw UsageError("--log-level: error|warning|info|debug|trace") }
                Log.level = l
            default:
                if arguments[i].hasPrefix("http://") || arguments[i].hasPrefix("https://") {
                    throw UsageError("HTTP (WHIP) signaling is not available yet: use --signal stdio")
                }
                throw UsageError("unknown option: " + arguments[i])
            }
            i += 1
        }
        guard signal == "stdio" else { throw UsageError("--signal: only stdio is available") }
    }

    func run() -> Int32 {
        let loop: EventLoop
        do throws(EventLoop.Failure) { loop = try EventLoop() } catch {
            Log.error("cannot create the event loop")
            return 1
        }
        let addresses = interfaceAddresses(filter).map { $0.address }
        let session: Session
        do throws(SessionError) {
            session = try Session(name: role == .controlling ? "doorbell" : "home", role: role, stunServers: stunServers,
                                  addresses: addresses, loop: loop)
            try session.attachMedia(rtpIn: rtpIn, rtpOut: rtpOut)
        } catch {
            Log.error(error.description)
            return 1
        }
        let signaling = StdioSignaling(session: session)
        session.signaling = signaling
        session.start(now: monotonicNow())
        do throws(EventLoop.Failure) {
            try loop.register(fd: 0, signaling)
        } catch {
            // epoll refuses regular files (stdin redirected from a file): read it all now.
            while !signaling.eof { signaling.readable(now: monotonicNow()) }
        }
        let limit = duration.map { monotonicNow() + .seconds($0) }
        do throws(EventLoop.Failure) { try loop.run(until: limit) } catch {
            Log.error("event loop failed")
            return 1
        }
        Log.info("media: sent \(session.toPeer.packets) RTP packets, received \(session.fromPeer.packets) (gaps \(session.fromPeer.sequenceGaps))")
        session.close()
        return session.everConnected ? 0 : 3
    }
}
