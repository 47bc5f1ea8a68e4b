import Common
import HTTP
import Runtime

/// One accepted connection: reads one request (bounded in size and time), then answers and
/// closes. Once the request is in, the connection leaves the event loop: a peer that keeps
/// sending while its answer waits for gathering cannot wake the loop (epoll is
/// level-triggered).
final class HTTPConnection: ReadableHandler {
    let stream: TCPStream
    let server: HTTPSignalingServer
    let opened: Instant
    var parser = HTTPParser(request: true)
    var headChecked = false
    var pendingAnswer: ServedSession? = nil
    var answerDue = Instant.zero
    var buffer = [UInt8](repeating: 0, count: 4096)

    init(stream: TCPStream, server: HTTPSignalingServer, opened: Instant) {
        self.stream = stream
        self.server = server
        self.opened = opened
    }

    func readable(now: Instant) {
        while true {
            let got: Int?
            do throws(SocketError) {
                got = try stream.receive(into: &buffer)
            } catch {
                return server.finish(self, .response(400, "Bad Request"))
            }
            guard let n = got else { return }  // would block: wait for more
            if n == 0 { return server.finish(self, .response(400, "Bad Request")) }
            let request: HTTPMessage?
            do throws(HTTPParseError) {
                request = try parser.feed(buffer, count: n)
            } catch {
                return server.finish(self, .response(error.status, error.reason))
            }
            if !headChecked, let head = parser.head {
                headChecked = true
                guard server.authorized(head) else { return server.refuseUnauthorized(self, head) }
            }
            if let request {
                server.loop.unregister(fd: stream.descriptor)
                return server.handle(self, request, now: now)
            }
        }
    }
}
