import Common
import HTTP
import ICE
import Runtime
import SDP

// WHIP-style signaling (RFC 9725, RFC 8840): the doorbell POSTs its offer (application/sdp)
// and gets 201 with the answer and a Location; its trickled candidates follow by PATCH
// (application/trickle-ice-sdpfrag); DELETE ends the session. The server side is
// `HTTPSignalingServer`.

/// `ice-agent call http[s]://...`: the doorbell side. Requests run on the event loop without
/// blocking it (non-blocking connect, send and receive), one at a time and in order: the offer,
/// then each trickle PATCH. Only the final DELETE, on the way out, is a blocking exchange.
public final class HTTPSignalingClient: SignalingTransport, TimerClient {
    let url: HTTPURL
    let server: TransportAddress
    let loop: EventLoop
    var inbox = OwnerEvents<SignalingMessage>()
    /// Sent on every request when set (RFC 9725 §4.7.1).
    let token: BearerToken?
    /// The trusted CAs for an https URL (RFC 9110 §4.3.4: the server's certificate must be
    /// valid for the URL's host); nil for http.
    let tls: TLSClientConfiguration?
    var location: String? = nil
    /// The ICE session's entity-tag from the 201 (RFC 9725 §4.3.1), sent as If-Match.
    var eTag: String? = nil
    public internal(set) var failed = false
    /// Since when the offer has failed (no answer, refused) and the owner has not yet
    /// taken it (`takeFatal`): the call cannot proceed.
    public private(set) var fatalDeadline: Instant? = nil
    static let timeoutMilliseconds: Int32 = 5000
    static let timeout = Interval.milliseconds(5000)
    /// A busy home (503) is asked again after its Retry-After (RFC 9110 §10.2.3), this many
    /// times at most, and only for a pause this short: a doorbell rebooted mid-call finds its
    /// previous session still held until consent expires (RFC 7675 §5.1, 30 s).
    static let maxOfferRetries = 4
    static let maxRetryAfterSeconds = 30
    var offerRetries = 0
    /// When the next request may start (a busy home's Retry-After).
    var pausedUntil: Instant? = nil

    enum Pending {
        case offer(String)
        case trickle(TrickleFragment)
        /// An ICE restart: the fragment with our new credentials (RFC 9725 §4.3.3).
        case restart(String)
        case delete
    }
    var queue: [Pending] = []
    var inFlight: HTTPExchange? = nil

    /// `tls` is needed for an https URL (without it every request fails) and ignored for http.
    public init(url: HTTPURL, server: TransportAddress, loop: EventLoop, token: BearerToken? = nil, tls: TLSClientConfiguration? = nil) {
        self.url = url
        self.token = token
        self.tls = url.secure ? tls : nil
        self.server = server
        self.loop = loop
        loop.addTimerClient(self)
    }

    // MARK: SignalingTransport

    public func sendDescription(_ sdp: String) {
        queue.append(.offer(sdp))
        startNext()
    }

    public func sendCandidate(_ c: Candidate, local: Credentials) {
        var f = fragment(local)
        f.candidates = [c]
        queue.append(.trickle(f))
        startNext()
    }

    public func sendEndOfCandidates(local: Credentials) {
        var f = fragment(local)
        f.endOfCandidates = true
        queue.append(.trickle(f))
        startNext()
    }

    public func sendRestart(description: String, fragment: String) {
        queue.append(.restart(fragment))
        startNext()
    }

    public var inboundDeadline: Instant? { inbox.deadline }
    public func pollInbound() -> SignalingMessage? { inbox.pop() }

    func fragment(_ local: Credentials) -> TrickleFragment {
        var f = TrickleFragment()
        f.iceUfrag = local.ufragText
        f.icePwd = local.passwordText
        f.mid = "0"
        return f
    }

    var locationPath: String? {
        guard let location else { return nil }
        // A relative Location resolves against the server (RFC 9110 §10.2.2).
        return location.hasPrefix("http://") || location.hasPrefix("https://") ? (HTTPURL(location)?.path ?? location) : location
    }

    func startNext() {
        guard inFlight == nil, pausedUntil == nil, !failed, !queue.isEmpty else { return }
        let item = queue.removeFirst()
        var request: HTTPMessage
        switch item {
        case .offer(let sdp):
            request = .request("POST", url.path, headers: [("Host", url.hostAndPort), ("Content-Type", "application/sdp")],
                               body: Array(sdp.utf8))
        case .trickle(let f):
            guard let path = locationPath else { return }  // the offer failed: nothing to patch
            request = .request("PATCH", path, headers: [("Host", url.hostAndPort), ("Content-Type", "application/trickle-ice-sdpfrag")],
                               body: Array(f.serialize().utf8))
            // RFC 9725 §4.3.2: a trickle PATCH names the ICE session it belongs to.
            if let eTag { request.headers.append(("if-match", eTag)) }
        case .restart(let f):
            guard let path = locationPath else { return }
            // RFC 9725 §4.3.3: If-Match: * asks the server for a new ICE session.
            request = .request("PATCH", path, headers: [("Host", url.hostAndPort), ("Content-Type", "application/trickle-ice-sdpfrag"),
                                                        ("if-match", "*")], body: Array(f.utf8))
        case .delete:
            guard let path = locationPath else { return detach() }
            request = .request("DELETE", path, headers: [("Host", url.hostAndPort)])
        }
        if let token { request.headers.append(("authorization", token.headerValue)) }
        do throws(SocketError) {
            let stream = try TCPStream.startConnect(to: server)
            let x = HTTPExchange(stream: stream, request: request.serialize(), started: monotonicNow(), client: self, item: item)
            inFlight = x
            try? loop.register(fd: stream.descriptor, x)
            loop.watchWritable(fd: stream.descriptor, true)
        } catch {
            finished(item, nil, error: error.description)
        }
    }

    /// An exchange ended with `response` (nil: failed with `error`).
    func finished(_ item: Pending, _ response: HTTPMessage?, error: String) {
        if let x = inFlight {
            loop.unregister(fd: x.stream.descriptor)
            inFlight = nil
        }
        let now = monotonicNow()
        switch item {
        case .offer(let sdp):
            if let r = response, r.status == 503, offerRetries < Self.maxOfferRetries,
               let wait = r.header("retry-after").flatMap({ Int($0) }), (0...Self.maxRetryAfterSeconds).contains(wait) {
                offerRetries += 1
                Log.warning("signaling: \(Self.explain(r)); offering again in \(max(wait, 1)) s")
                queue.insert(.offer(sdp), at: 0)
                pausedUntil = now + .seconds(Int64(max(wait, 1)))
                return
            }
            guard let r = response, r.status == 201, let loc = r.header("location") else {
                Log.error("signaling: offer not accepted by \(url.hostAndPort): \(response.map(Self.explain) ?? error)")
                failed = true
                fatalDeadline = now
                return
            }
            location = loc
            eTag = r.header("etag")
            // The session judges the answer; one it refuses ends the call (`fail`).
            inbox.push(.description(String(decoding: r.body, as: UTF8.self)), now: now)
        case .trickle:
            if response?.status != 204 { Log.warning("signaling: trickle PATCH: \(response.map { "HTTP \($0.status)" } ?? error)") }
        case .restart:
            guard let r = response, r.status == 200 else {
                // The session judges a restart that got no answer (its checks fail, or it tries again).
                Log.warning("signaling: ICE restart PATCH: \(response.map(Self.explain) ?? error)")
                break
            }
            // The new ICE session's entity-tag names it in the trickle PATCHes that follow.
            if let tag = r.header("etag") { eTag = tag }
            inbox.push(.restartAnswer(String(decoding: r.body, as: UTF8.self)), now: now)
        case .delete:
            if let r = response, r.status / 100 == 2 {} else {
                Log.warning("signaling: DELETE: \(response.map { "HTTP \($0.status)" } ?? error)")
            }
            detach()
            return
        }
        startNext()
    }

    /// A refusal as the operator needs to read it.
    static func explain(_ r: HTTPMessage) -> String {
        switch r.status {
        case 401: return "HTTP 401: the home wants a valid bearer token (--token-file)"
        case 503: return "HTTP 503: the home is busy" + (r.header("retry-after").map { " (retry after \($0) s)" } ?? "")
        default: return "HTTP \(r.status)"
        }
    }

    /// The session refused the answer: nothing more is sent, and the owner ends the call.
    public func fail() {
        failed = true
        queue.removeAll()
    }

    /// Whether the offer failed since the last call: the owner ends the call.
    public func takeFatal() -> Bool {
        defer { fatalDeadline = nil }
        return fatalDeadline != nil
    }

    // MARK: TimerClient (request timeout)

    public var nextDeadline: Instant? { inFlight.map { $0.started + Self.timeout } ?? pausedUntil }

    public func handleTimeout(now: Instant) {
        if let p = pausedUntil, now >= p {
            pausedUntil = nil
            startNext()
            return
        }
        guard let x = inFlight, now >= x.started + Self.timeout else { return }
        finished(x.item, nil, error: "timed out")
    }

    /// Leaves the event loop: drops the queued and in-flight requests. For a daemon that places
    /// one call after another (the doorbell button), so a finished call holds nothing.
    public func detach() {
        if let x = inFlight {
            loop.unregister(fd: x.stream.descriptor)
            inFlight = nil
        }
        queue.removeAll()
        failed = true
        loop.removeTimerClient(self)
    }

    /// Ends the session at the server on the loop, after any request in flight, then leaves
    /// the loop (`detach`). For a daemon that goes on after the call: the loop never blocks.
    public func deleteOnLoop() {
        queue.removeAll()
        guard locationPath != nil, !failed else { return detach() }
        queue.append(.delete)
        startNext()
    }

    /// Ends the session at the server (blocking, on the way out; connect, handshake and
    /// exchange bounded by the request timeout).
    public func delete() {
        guard let path = locationPath else { return }
        var request = HTTPMessage.request("DELETE", path, headers: [("Host", url.hostAndPort)])
        if let token { request.headers.append(("authorization", token.headerValue)) }
        let stream: TCPStream
        do throws(SocketError) {
            stream = try TCPStream.connect(to: server, timeoutMilliseconds: Self.timeoutMilliseconds)
        } catch {
            return Log.warning("signaling: DELETE: \(error.description)")
        }
        guard let tls else {
            guard !url.secure else { return }
            do throws(SocketError) {
                try stream.send(request.serialize())
                var buffer = [UInt8](repeating: 0, count: 512)
                _ = try stream.receive(into: &buffer)
            } catch {
                Log.warning("signaling: DELETE: \(error.description)")
            }
            return
        }
        // The socket blocks with the timeout, so each would-block below is a timeout: the
        // deadline bounds the retries.
        let deadline = monotonicNow() + Self.timeout
        let bytes = request.serialize()
        do throws(TLSError) {
            let session = try TLSConnection(configuration: tls, descriptor: stream.descriptor, serverName: url.host)
            while try !session.handshake() {
                guard monotonicNow() < deadline else { return Log.warning("signaling: DELETE: TLS handshake timed out") }
            }
            var sent = 0
            while sent < bytes.count {
                let r: Result<Int?, TLSError> = bytes.withUnsafeBytes { b in
                    do throws(TLSError) { return .success(try session.write(UnsafeRawBufferPointer(rebasing: b[sent...]))) } catch {
                        return .failure(error)
                    }
                }
                if let n = try r.get() { sent += n }
                guard monotonicNow() < deadline else { return Log.warning("signaling: DELETE: timed out") }
            }
            var buffer = [UInt8](repeating: 0, count: 512)
            let got: Result<Int?, TLSError> = buffer.withUnsafeMutableBytes { b in
                do throws(TLSError) { return .success(try session.read(into: b)) } catch { return .failure(error) }
            }
            _ = try got.get()
            session.closeNotify()
        } catch {
            Log.warning("signaling: DELETE: TLS with \(url.host): \(error.description)")
        }
    }
}

/// One request/response on a non-blocking connection, driven by the event loop; over TLS for
/// an https URL (handshake, SNI and the certificate check against the URL's host first).
final class HTTPExchange: ReadableHandler {
    let stream: TCPStream
    let request: [UInt8]
    var sent = 0
    let started: Instant
    let client: HTTPSignalingClient
    let item: HTTPSignalingClient.Pending
    var parser = HTTPParser(request: false)
    var buffer = [UInt8](repeating: 0, count: 4096)
    var connected = false
    var tls: TLSConnection? = nil
    /// Ended (`client.finished` was called): nothing more is done on the socket.
    var done = false

    init(stream: TCPStream, request: [UInt8], started: Instant, client: HTTPSignalingClient, item: HTTPSignalingClient.Pending) {
        self.stream = stream
        self.request = request
        self.started = started
        self.client = client
        self.item = item
    }

    func fail(_ error: String) {
        guard !done else { return }
        done = true
        client.finished(item, nil, error: error)
    }

    func writable(now: Instant) {
        guard !done else { return }
        if !connected {
            let e = stream.connectError()
            guard e == 0 else { return fail("connect failed: errno \(e)") }
            connected = true
            if client.url.secure {
                guard let config = client.tls else { return fail("https needs trusted CA certificates (--signal-ca)") }
                do throws(TLSError) {
                    tls = try TLSConnection(configuration: config, descriptor: stream.descriptor, serverName: client.url.host)
                } catch {
                    return fail("TLS: " + error.description)
                }
            }
        }
        _ = advance()
    }

    /// Runs the handshake and sends what the socket takes: false while the request is not
    /// all sent (or the exchange ended).
    func advance() -> Bool {
        if let tls, !tls.handshakeDone {
            do throws(TLSError) {
                guard try tls.handshake() else {
                    client.loop.watchWritable(fd: stream.descriptor, tls.wantsWrite)
                    return false
                }
            } catch {
                fail("TLS with \(client.url.host): " + error.description)
                return false
            }
        }
        while sent < request.count {
            let r: Result<Int?, SocketError> = request.withUnsafeBytes { b in
                let rest = UnsafeRawBufferPointer(rebasing: b[sent...])
                guard let tls else {
                    do throws(SocketError) { return .success(try stream.send(rest)) } catch { return .failure(error) }
                }
                do throws(TLSError) { return .success(try tls.write(rest)) } catch {
                    return .failure(.send(0))
                }
            }
            switch r {
            case .failure(let e):
                fail(tls == nil ? e.description : "TLS write failed")
                return false
            case .success(let n):
                guard let n, n > 0 else {
                    client.loop.watchWritable(fd: stream.descriptor, tls?.wantsWrite ?? true)
                    return false
                }
                sent += n
            }
        }
        client.loop.watchWritable(fd: stream.descriptor, false)
        return true
    }

    func readable(now: Instant) {
        guard !done else { return }
        // A failed connect wakes readers too (EPOLLERR).
        if !connected { return writable(now: now) }
        guard advance() else { return }
        while !done {
            let got: Int?
            if let tls {
                let r: Result<Int?, TLSError> = buffer.withUnsafeMutableBytes { b in
                    do throws(TLSError) { return .success(try tls.read(into: b)) } catch { return .failure(error) }
                }
                switch r {
                case .success(let n): got = n
                case .failure(.closed): got = 0
                case .failure(let e): return fail("TLS: " + e.description)
                }
            } else {
                do throws(SocketError) { got = try stream.receive(into: &buffer) } catch {
                    return fail(error.description)
                }
            }
            guard let n = got else { return }
            if n == 0 { return fail("connection closed before a response") }
            do throws(HTTPParseError) {
                if let m = try parser.feed(buffer, count: n) {
                    done = true
                    return client.finished(item, m, error: "")
                }
            } catch {
                return fail("malformed response")
            }
        }
    }
}
