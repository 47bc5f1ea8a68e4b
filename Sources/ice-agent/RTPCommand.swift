import Common
import Daemon
import Runtime

/// `ice-agent rtp send|receive`: a stand-in camera and speaker for bring-up and tests. `send`
/// feeds a 20 ms cadence of valid RTP (PT 96) to the daemon's --rtp-in port; `receive` counts
/// what arrives on a --rtp-out port and prints the count when it stops.
struct RTPCommand {
    enum Mode { case send, receive }
    var mode: Mode
    var address: TransportAddress? = nil
    var seconds: Int64? = nil

    static func spec(_ mode: Mode) -> CommandSpec<RTPCommand> {
        let seconds = Option<RTPCommand>("--seconds", .value("S"), "stop after S seconds (default: run until killed)") {
            c, v throws(UsageError) in
            c.seconds = try number(v, in: 1...Int64.max, "--seconds takes seconds > 0")
        }
        switch mode {
        case .send:
            return CommandSpec(
                name: "rtp send", synopsis: "--to ADDR:PORT [--seconds S]",
                about: "A stand-in camera: valid RTP (PT 96) every 20 ms to ADDR:PORT (the daemon's --rtp-in).",
                options: [
                    Option("--to", .value("ADDR:PORT"), "where to send") { c, v throws(UsageError) in c.address = try parseAddress(v) },
                    seconds,
                ])
        case .receive:
            return CommandSpec(
                name: "rtp receive", synopsis: "--listen ADDR:PORT [--seconds S]",
                about: "Counts the RTP packets arriving on ADDR:PORT (the daemon's --rtp-out) and prints the count.",
                options: [
                    Option("--listen", .value("ADDR:PORT"), "where to receive") { c, v throws(UsageError) in
                        c.address = try parseAddress(v)
                    },
                    seconds,
                ])
        }
    }

    init(mode: Mode, arguments: [String]) throws(UsageError) {
        self.mode = mode
        try RTPCommand.spec(mode).parse(arguments, into: &self)
        guard address != nil else { throw UsageError(mode == .send ? "rtp send needs --to ADDR:PORT" : "rtp receive needs --listen ADDR:PORT") }
    }

    func run() -> Int32 {
        guard let address else { return 2 }
        guard let loop = openEventLoop() else { return 1 }
        switch mode {
        case .send:
            let source: RTPTestSource
            do throws(SocketError) { source = try RTPTestSource(to: address, loop: loop) } catch {
                Log.error("rtp send: \(error.description)")
                return 1
            }
            source.running = true
            guard runEventLoop(loop, seconds: seconds) else { return 1 }
            writeStdout("sent \(source.sent) RTP packets\n")
        case .receive:
            let sink: MediaSink
            do throws(SocketError) { sink = try MediaSink(bind: address, loop: loop) } catch {
                Log.error("rtp receive: cannot bind \(address): \(error.description)")
                return 1
            }
            Log.info("rtp receive: listening on \(sink.socket.localAddress)")
            guard runEventLoop(loop, seconds: seconds) else { return 1 }
            writeStdout("received \(sink.packets) RTP packets\n")
        }
        return 0
    }
}
