import Common
import Runtime
import STUN

/// `ice-agent stun server`: a Binding server on real sockets around `BindingResponder`.
struct StunServerCommand {
    var responder: BindingResponder

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
        responder = BindingResponder(primary: listen, alternate: alternate, software: "ice-agent 0.1.0")
    }

    func run() -> Int32 {
        // One socket per address the responder may answer from (RFC 5780 §4.1: four with an
        // alternate, all of which also accept requests).
        var addresses = [responder.primary]
        if let alt = responder.alternate {
            let p = responder.primary
            addresses += [TransportAddress(p.ip, alt.port), TransportAddress(alt.ip, p.port), alt]
        }
        var sockets: [UDPSocket] = []
        for a in addresses {
            do throws(SocketError) {
                sockets.append(try UDPSocket(bind: a))
            } catch {
                printError("ice-agent: cannot listen on \(a): \(error.description)")
                return 1
            }
        }
        printError("ice-agent: STUN server listening on " + sockets.map { $0.localAddress.description }.joined(separator: ", "))
        var input = [UInt8](repeating: 0, count: 2048)
        var output = [UInt8](repeating: 0, count: 1024)
        let descriptors = sockets.map { $0.descriptor }
        while true {
            let ready: Int
            do throws(SocketError) {
                guard let r = try pollReadable(descriptors, timeoutMilliseconds: -1) else { continue }
                ready = r
            } catch {
                printError("ice-agent: " + error.description)
                return 1
            }
            let socket = sockets[ready]
            input.withUnsafeMutableBytes { inBuf in
                output.withUnsafeMutableBytes { outBuf in
                    guard let (n, source) = try? socket.receive(into: inBuf, timeoutMilliseconds: 0) else { return }
                    let datagram = UnsafeRawBufferPointer(rebasing: inBuf[0..<n])
                    guard let request = try? Message(parsing: datagram) else { return }
                    // Listening on a wildcard address: answer from the socket it came in on.
                    guard let response = responder.respond(to: request, from: source, on: socket.localAddress, into: outBuf) else { return }
                    let sender = sockets.first { $0.localAddress == response.from } ?? socket
                    try? sender.send(UnsafeRawBufferPointer(rebasing: outBuf[0..<response.count]), to: response.to)
                }
            }
        }
    }
}

func parseAddress(_ text: String) throws(UsageError) -> TransportAddress {
    guard let a = TransportAddress(text) else { throw UsageError("not an ADDR:PORT: " + text) }
    return a
}
