import Common
import Crypto
import Runtime
import STUN

/// A STUN Binding server on the event loop around `BindingResponder`: the demo's built-in
/// server and `ice-agent stun server`. With an alternate address it binds the four sockets
/// RFC 5780 §4.1 needs (primary and alternate IP, each with both ports), all of which also
/// take requests, and a CHANGE-REQUEST is answered from the socket the responder picks.
public final class StunServer {
    public let sockets: [UDPSocket]
    let responder: BindingResponder
    var input = [UInt8](repeating: 0, count: 2048)
    var output = [UInt8](repeating: 0, count: 1024)

    /// The primary socket (its address has the kernel's port when `bind` had port 0).
    public var socket: UDPSocket { sockets[0] }

    public init(bind: TransportAddress, alternate: TransportAddress? = nil, loop: EventLoop,
                software: StaticString = "ice-agent 0.1.0") throws(SocketError) {
        let primary = try UDPSocket(bind: bind)
        var all = [primary]
        if let alt = alternate {
            let p = primary.localAddress
            for a in [TransportAddress(p.ip, alt.port), TransportAddress(alt.ip, p.port), alt] {
                all.append(try UDPSocket(bind: a))
            }
        }
        sockets = all
        responder = BindingResponder(primary: primary.localAddress, alternate: alternate, software: software)
        // Every answer carries a FINGERPRINT (RFC 8489 §14.7): its CRC tables before the first.
        CRC32.prepare()
        for s in all { try? loop.register(fd: s.descriptor, Reader(server: self, socket: s)) }
    }

    /// Answers every datagram waiting on `socket`. Listening on a wildcard address, the
    /// answer leaves from the socket the request came in on.
    func drain(_ socket: UDPSocket) {
        input.withUnsafeMutableBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                while let (n, from) = (try? socket.tryReceive(into: inBuf)) ?? nil {
                    guard let m = try? Message(parsing: UnsafeRawBufferPointer(rebasing: inBuf[0..<n])),
                          let r = responder.respond(to: m, from: from, on: socket.localAddress, into: outBuf) else { continue }
                    let sender = sockets.first { $0.localAddress == r.from } ?? socket
                    try? sender.send(UnsafeRawBufferPointer(rebasing: outBuf[0..<r.count]), to: r.to)
                }
            }
        }
    }

    final class Reader: ReadableHandler {
        let server: StunServer
        let socket: UDPSocket
        init(server: StunServer, socket: UDPSocket) {
            self.server = server
            self.socket = socket
        }
        func readable(now: Instant) { server.drain(socket) }
    }
}
