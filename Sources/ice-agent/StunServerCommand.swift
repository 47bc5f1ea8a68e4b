import Common
import Daemon
import Runtime

/// `ice-agent stun server`: the Daemon's `StunServer` on its own event loop until SIGINT/SIGTERM.
struct StunServerCommand {
    var listen = TransportAddress(.v4Any, 0)
    var listenOption: TransportAddress? = nil
    var alternate: TransportAddress?

    static let spec = CommandSpec<StunServerCommand>(
        name: "stun server", synopsis: "--listen ADDR:PORT [--alternate ADDR:PORT]",
        about: "STUN Binding server until SIGINT/SIGTERM. With --alternate (a second IP and port), RFC 5780\n"
            + "RESPONSE-ORIGIN, OTHER-ADDRESS and CHANGE-REQUEST are supported.",
        options: [
            Option("--listen", .value("ADDR:PORT"), "the server's address") { c, v throws(UsageError) in
                c.listenOption = try parseAddress(v)
            },
            Option("--alternate", .value("ADDR:PORT"), "RFC 5780 alternate address: differs in both IP and port, same family") {
                c, v throws(UsageError) in
                c.alternate = try parseAddress(v)
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try StunServerCommand.spec.parse(arguments, into: &self)
        guard let listen = listenOption else { throw UsageError("stun server needs --listen ADDR:PORT") }
        if let alternate {
            guard alternate.ip.isIPv4 == listen.ip.isIPv4, alternate.ip != listen.ip, alternate.port != listen.port else {
                throw UsageError("--alternate must differ from --listen in both IP and port, same family")
            }
        }
        self.listen = listen
    }

    func run() -> Int32 {
        guard let loop = openEventLoop() else { return 1 }
        let server: StunServer
        do throws(SocketError) {
            server = try StunServer(bind: listen, alternate: alternate, loop: loop)
        } catch {
            printError("ice-agent: cannot listen on \(listen): \(error.description)")
            return 1
        }
        printError("ice-agent: STUN server listening on " + server.sockets.map { $0.localAddress.description }.joined(separator: ", "))
        return runEventLoop(loop, seconds: nil) ? 0 : 1
    }
}

func parseAddress(_ text: String) throws(UsageError) -> TransportAddress {
    guard let a = TransportAddress(text) else { throw UsageError("not an ADDR:PORT: " + text) }
    return a
}
