import Common
import HTTP
import ICE
import Runtime
import SDP

// WHIP-style signaling (RFC 9725, RFC 8840): the doorbell POSTs its offer (application/sdp)
// and gets 201 with the answer and a Location; its trickled candidates follow by PATCH
// (application/trickle-ice-sdpfrag); DELETE ends the session. The server side is
// `HTTPSignalingServer`.

/// `ice-agent call http://...`: the doorbell side. Requests run on the event loop without
/// blocking it (non-blocking connect, send and receive), one at a time and in order: the offer,
/// then each trickle PATCH. Only the final DELETE, on the way out, is a blocking exchange.
public final class HTTPSignalingClient: SignalingTransport, TimerClient {
    let url: HTTPURL
    let server: TransportAddress
    let loop: EventLoop
    var inbox = OwnerEvents<SignalingMessage>()
    /// Sent on every request when set (RFC 9725 §4.7.1).
    let token: BearerToken?
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
        case delete
    }
    var queue: [Pending] = []
    var inFlight: HTTPExchange? = nil

    public init(url: HTTPURL, server: TransportAddress, loop: EventLoop, token: BearerToken? = nil) {
        self.url = url
        self.token = token
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
        return location.hasPrefix("http://") ? (HTTPURL(location)?.path ?? location) : location
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
                Log.warning("signaling: " + Self.explain(r) + "; offering again in \(max(wait, 1)) s")
                queue.insert(.offer(sdp), at: 0)
                pausedUntil = now + .seconds(Int64(max(wait, 1)))
                return
            }
            guard let r = response, r.status == 201, let loc = r.header("location") else {
                Log.error("signaling: offer not accepted by \(url.hostAndPort): " + (response.map(Self.explain) ?? error))
                failed = true
                fatalDeadline = now
                return
            }
            location = loc
            eTag = r.header("etag")
            // The session judges the answer; one it refuses ends the call (`fail`).
            inbox.push(.description(String(decoding: r.body, as: UTF8.self)), now: now)
        case .trickle:
            if response?.status != 204 { Log.warning("signaling: trickle PATCH: " + (response.map { "HTTP \($0.status)" } ?? error)) }
        case .delete:
            if let r = response, r.status / 100 == 2 {} else {
                Log.warning("signaling: DELETE: " + (response.map { "HTTP \($0.status)" } ?? error))
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

    /// Ends the session at the server (blocking, on the way out).
    public func delete() {
        guard let path = locationPath else { return }
        do throws(SocketError) {
            let stream = try TCPStream.connect(to: server, timeoutMilliseconds: Self.timeoutMilliseconds)
            var request = HTTPMessage.request("DELETE", path, headers: [("Host", url.hostAndPort)])
            if let token { request.headers.append(("authorization", token.headerValue)) }
            try stream.send(request.serialize())
            var buffer = [UInt8](repeating: 0, count: 512)
            _ = try stream.receive(into: &buffer)
        } catch {
            Log.warning("signaling: DELETE: \(error.description)")
        }
    }
}

/// One request/response on a non-blocking connection, driven by the event loop.
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

    init(stream: TCPStream, request: [UInt8], started: Instant, client: HTTPSignalingClient, item: HTTPSignalingClient.Pending) {
        self.stream = stream
        self.request = request
        self.started = started
        self.client = client
        self.item = item
    }

    func writable(now: Instant) {
        if !connected {
            let e = stream.connectError()
            guard e == 0 else { return client.finished(item, nil, error: "connect failed: errno \(e)") }
            connected = true
        }
        do throws(SocketError) {
            sent += try stream.send(Array(request[sent...]))
        } catch {
            return client.finished(item, nil, error: error.description)
        }
        if sent == request.count { client.loop.watchWritable(fd: stream.descriptor, false) }
    }

    func readable(now: Instant) {
        while true {
            let got: Int?
            do throws(SocketError) { got = try stream.receive(into: &buffer) } catch {
                return client.finished(item, nil, error: error.description)
            }
            guard let n = got else { return }
            if n == 0 { return client.finished(item, nil, error: "connection closed before a response") }
            do throws(HTTPParseError) {
                if let m = try parser.feed(buffer, count: n) { return client.finished(item, m, error: "") }
            } catch {
                return client.finished(item, nil, error: "malformed response")
            }
        }
    }
}
