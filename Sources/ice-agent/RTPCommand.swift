import Common
import Daemon
import Runtime

/// `ice-agent rtp send|receive`: a stand-in camera and speaker for bring-up and tests. `send`
/// feeds a 20 ms cadence of valid RTP (PT 96) to the daemon's --rtp-in port; `receive` counts
/// what arrives on a --rtp-out port and prints the count when it stops.
struct RTPCommand {
    enum Mode { case send, receive }
    var mode: Mode
    var address: TransportAddress
    var seconds: Int64? = nil

    init(arguments: [String]) throws(UsageError) {
        guard let verb = arguments.first else { throw UsageError("rtp: send or receive") }
        switch verb {
        case "send": mode = .send
        case "receive": mode = .receive
        default: throw UsageError("rtp: send or receive, not " + verb)
        }
        var address: TransportAddress? = nil
        var i = 1
        while i < arguments.count {
            guard i + 1 < arguments.count else { throw UsageError(arguments[i] + " needs a value") }
            switch arguments[i] {
            case "--to" where mode == .send, "--listen" where mode == .receive:
                address = try parseAddress(arguments[i + 1])
            case "--seconds":
                guard let s = Int64(arguments[i + 1]), s > 0 else { throw UsageError("--seconds takes seconds > 0") }
                seconds = s
            default:
                throw UsageError("unknown option for rtp \(verb): " + arguments[i])
            }
            i += 2
        }
        guard let address else { throw UsageError(mode == .send ? "rtp send needs --to ADDR:PORT" : "rtp receive needs --listen ADDR:PORT") }
        self.address = address
    }

    func run() -> Int32 {
        let loop: EventLoop
        do throws(EventLoop.Failure) { loop = try EventLoop() } catch {
            Log.error("cannot create the event loop")
            return 1
        }
        let limit = seconds.map { monotonicNow() + .seconds($0) }
        switch mode {
        case .send:
            let source: RTPTestSource
            do throws(SocketError) { source = try RTPTestSource(to: address, loop: loop) } catch {
                Log.error("rtp send: \(error.description)")
                return 1
            }
            source.running = true
            do throws(EventLoop.Failure) { try loop.run(until: limit) } catch { return 1 }
            writeStdout("sent \(source.sent) RTP packets\n")
        case .receive:
            let sink: MediaSink
            do throws(SocketError) { sink = try MediaSink(bind: address, loop: loop) } catch {
                Log.error("rtp receive: cannot bind \(address): \(error.description)")
                return 1
            }
            Log.info("rtp receive: listening on \(sink.socket.localAddress)")
            do throws(EventLoop.Failure) { try loop.run(until: limit) } catch { return 1 }
            writeStdout("received \(sink.packets) RTP packets\n")
        }
        return 0
    }
}
