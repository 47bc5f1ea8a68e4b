import Common
import Daemon
import Runtime

/// `ice-agent stun server`: the Daemon's `StunServer` on its own event loop until SIGINT/SIGTERM.
struct StunServerCommand {
    var listen: TransportAddress
    var alternate: TransportAddress?

    init(arguments: [String]) throws(UsageError) {
        var listen: TransportAddress?
        var alternate: TransportAddress?
        var i = 0
        while i < arguments.count {
            guard i + 1 < arguments.count else { throw UsageError(arguments[i] + " needs a value") }
            switch arguments[i] {
            case "--listen": listen = try parseAddress(arguments[i + 1])
            case "--alternate": alternate = try parseAddress(arguments[i + 1])
            default: throw UsageError("unknown option for stun server: " + arguments[i])
            }
            i += 2
        }
        guard let listen else { throw UsageError("stun server needs --listen ADDR:PORT") }
        if let alternate {
            guard alternate.ip.isIPv4 == listen.ip.isIPv4, alternate.ip != listen.ip, alternate.port != listen.port else {
                throw UsageError("--alternate must differ from --listen in both IP and port, same family")
            }
        }
        self.listen = listen
        self.alternate = alternate
    }

    func run() -> Int32 {
        let loop: EventLoop
        do throws(EventLoop.Failure) { loop = try EventLoop() } catch {
            printError("ice-agent: cannot create the event loop")
            return 1
        }
        let server: StunServer
        do throws(SocketError) {
            server = try StunServer(bind: listen, alternate: alternate, loop: loop)
        } catch {
            printError("ice-agent: cannot listen on \(listen): \(error.description)")
            return 1
        }
        printError("ice-agent: STUN server listening on " + server.sockets.map { $0.localAddress.description }.joined(separator: ", "))
        do throws(EventLoop.Failure) { try loop.run() } catch {
            printError("ice-agent: event loop failed")
            return 1
        }
        return 0
    }
}

func parseAddress(_ text: String) throws(UsageError) -> TransportAddress {
    guard let a = TransportAddress(text) else { throw UsageError("not an ADDR:PORT: " + text) }
    return a
}
