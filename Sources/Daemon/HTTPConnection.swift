import Common
import HTTP
import Runtime

/// One accepted connection: reads one request (bounded in size and time), then answers and
/// closes. Once the request is in, the connection leaves the event loop: a peer that keeps
/// sending while its answer waits for gathering cannot wake the loop (epoll is
/// level-triggered). With `--tls-cert` the request comes over TLS (RFC 9725 §4.7: HTTPS); the
/// handshake counts against the same request timeout, so a client that stalls in it holds
/// its connection slot no longer than one that stalls in its request.
final class HTTPConnection: ReadableHandler {
    let stream: TCPStream
    let server: HTTPSignalingServer
    let opened: Instant
    let tls: TLSServerConnection?
    var parser = HTTPParser(request: true)
    var headChecked = false
    var pendingAnswer: ServedSession? = nil
    var answerDue = Instant.zero
    var buffer = [UInt8](repeating: 0, count: 4096)

    init(stream: TCPStream, server: HTTPSignalingServer, opened: Instant, tls: TLSServerConnection?) {
        self.stream = stream
        self.server = server
        self.opened = opened
        self.tls = tls
    }

    /// Whether a response can reach the client: not before its TLS handshake is done (a
    /// plaintext answer to a TLS client, or to a plain-HTTP client of an HTTPS server, would
    /// be read by neither).
    var canRespond: Bool { tls?.handshakeDone ?? true }

    func writable(now: Instant) { readable(now: now) }

    func readable(now: Instant) {
        if let tls, !tls.handshakeDone {
            do throws(TLSError) {
                let done = try tls.handshake()
                server.loop.watchWritable(fd: stream.descriptor, tls.wantsWrite)
                guard done else { return }
            } catch {
                Log.debug("signaling: TLS handshake with \(stream.peer) failed: \(error.description)")
                return server.drop(self)
            }
        }
        while true {
            let got: Int?
            do throws(SocketError) {
                got = try receive()
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

    /// The next bytes of the request: 0 at its end (a TLS close or error is an end too), nil
    /// when none are available yet.
    func receive() throws(SocketError) -> Int? {
        guard let tls else { return try stream.receive(into: &buffer) }
        let r: Result<Int?, TLSError> = buffer.withUnsafeMutableBytes { b in
            do throws(TLSError) { return .success(try tls.read(into: b)) } catch { return .failure(error) }
        }
        switch r {
        case .success(let n): return n
        case .failure: return 0
        }
    }

    /// Sends the response, best-effort like a plain one (it is small; a client that does not
    /// read it loses it), then TLS close_notify.
    func send(_ bytes: [UInt8]) {
        guard let tls else {
            _ = try? stream.send(bytes)
            return
        }
        guard tls.handshakeDone else { return }
        var sent = 0
        while sent < bytes.count {
            let r: Result<Int?, TLSError> = bytes.withUnsafeBytes { b in
                do throws(TLSError) {
                    return .success(try tls.write(UnsafeRawBufferPointer(rebasing: b[sent...])))
                } catch {
                    return .failure(error)
                }
            }
            guard case .success(let n?) = r, n > 0 else { return }
            sent += n
        }
        tls.closeNotify()
    }
}
