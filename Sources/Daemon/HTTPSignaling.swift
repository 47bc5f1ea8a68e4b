import Common
import HTTP
import ICE
import Runtime
import SDP

// WHIP-style signaling (RFC 9725, RFC 8840): the doorbell POSTs its offer (application/sdp)
// and gets 201 with the answer and a Location; its trickled candidates follow by PATCH
// (application/trickle-ice-sdpfrag); DELETE ends the session.

/// `ice-agent answer --listen ADDR:PORT`: the home side.
public final class HTTPSignalingServer: ReadableHandler, TimerClient {
    public let listener: TCPListener
    let loop: EventLoop
    let makeSession: () -> Session?
    public internal(set) var sessions: [(id: Int, session: Session)] = []
    var connections: [HTTPConnection] = []
    var nextID = 1
    /// Called for each new session (the daemon hooks its status LEDs here).
    public var onSession: ((Session) -> Void)? = nil
    static let maxSessions = 4
    static let maxConnections = 16
    /// The answer waits this long at most for server-reflexive candidates.
    static let gatheringWait = Interval.seconds(1)
    static let idleTimeout = Interval.seconds(10)

    public init(listen: TransportAddress, loop: EventLoop, makeSession: @escaping () -> Session?) throws(SocketError) {
        listener = try TCPListener(bind: listen)
        self.loop = loop
        self.makeSession = makeSession
        try? loop.register(fd: listener.descriptor, self)
        loop.addTimerClient(self)
    }

    public func readable(now: Instant) {
        while let stream = listener.accept() {
            guard connections.count < Self.maxConnections else {
                reply(stream, .response(503, "Service Unavailable"))
                continue
            }
            let c = HTTPConnection(stream: stream, server: self, opened: now)
            connections.append(c)
            try? loop.register(fd: stream.descriptor, c)
        }
    }

    public var nextDeadline: Instant? {
        var d: Instant? = nil
        for c in connections {
            let t = c.pendingAnswer != nil ? c.answerDue : c.opened + Self.idleTimeout
            if d == nil || t < d! { d = t }
        }
        return d
    }

    public func handleTimeout(now: Instant) {
        for c in connections {
            if let s = c.pendingAnswer {
                if s.gatheringDone || now >= c.answerDue { sendAnswer(c, s) }
            } else if now >= c.opened + Self.idleTimeout {
                finish(c, .response(408, "Request Timeout"))
            }
        }
    }

    func reply(_ stream: TCPStream, _ m: HTTPMessage) {
        _ = try? stream.send(m.serialize())
    }

    func finish(_ c: HTTPConnection, _ m: HTTPMessage) {
        reply(c.stream, m)
        loop.unregister(fd: c.stream.descriptor)
        connections.removeAll { $0 === c }
    }

    func sendAnswer(_ c: HTTPConnection, _ s: Session) {
        c.pendingAnswer = nil
        let id = sessions.first { $0.session === s }?.id ?? 0
        finish(c, .response(201, "Created", headers: [("Location", "/session/\(id)"), ("Content-Type", "application/sdp")],
                            body: Array(s.currentDescription().utf8)))
    }

    func handle(_ c: HTTPConnection, _ r: HTTPMessage, now: Instant) {
        let body = String(decoding: r.body, as: UTF8.self)
        if r.method == "POST" {
            guard r.header("content-type")?.hasPrefix("application/sdp") == true else {
                return finish(c, .response(415, "Unsupported Media Type"))
            }
            guard sessions.count < Self.maxSessions, let s = makeSession() else {
                return finish(c, .response(503, "Service Unavailable"))
            }
            do throws(SDPError) {
                try s.receiveDescription(body, now: now)
            } catch {
                s.close()
                return finish(c, .response(400, "Bad Request", body: Array(error.description.utf8)))
            }
            sessions.append((nextID, s))
            onSession?(s)
            Log.info("signaling: session \(nextID) from \(c.stream.peer)")
            nextID += 1
            s.start(now: now)
            c.pendingAnswer = s
            c.answerDue = now + Self.gatheringWait
            if s.gatheringDone { sendAnswer(c, s) }
            return
        }
        guard r.target.hasPrefix("/session/"), let id = Int(r.target.dropFirst("/session/".count)),
              let index = sessions.firstIndex(where: { $0.id == id }) else {
            return finish(c, .response(404, "Not Found"))
        }
        let s = sessions[index].session
        switch r.method {
        case "PATCH":
            guard r.header("content-type")?.hasPrefix("application/trickle-ice-sdpfrag") == true else {
                return finish(c, .response(415, "Unsupported Media Type"))
            }
            do throws(SDPError) {
                let f = try TrickleFragment.parse(body)
                for cand in f.candidates { s.receiveCandidate(cand, now: now) }
                if f.endOfCandidates { s.receiveEndOfCandidates(now: now) }
                finish(c, .response(204, "No Content"))
            } catch {
                finish(c, .response(400, "Bad Request", body: Array(error.description.utf8)))
            }
        case "DELETE":
            s.close()
            sessions.remove(at: index)
            Log.info("signaling: session \(id) deleted")
            finish(c, .response(200, "OK"))
        default:
            finish(c, .response(405, "Method Not Allowed", headers: [("Allow", "POST, PATCH, DELETE")]))
        }
    }
}

/// One accepted connection: reads one request (bounded), then answers and closes.
final class HTTPConnection: ReadableHandler {
    let stream: TCPStream
    let server: HTTPSignalingServer
    let opened: Instant
    var parser = HTTPParser(request: true)
    var pendingAnswer: Session? = nil
    var answerDue = Instant.zero
    var buffer = [UInt8](repeating: 0, count: 4096)

    init(stream: TCPStream, server: HTTPSignalingServer, opened: Instant) {
        self.stream = stream
        self.server = server
        self.opened = opened
    }

    func readable(now: Instant) {
        guard pendingAnswer == nil else { return }
        while true {
            let got: Int?
            do throws(SocketError) {
                got = try stream.receive(into: &buffer)
            } catch {
                return server.finish(self, .response(400, "Bad Request"))
            }
            guard let n = got else { return }  // would block: wait for more
            if n == 0 { return server.finish(self, .response(400, "Bad Request")) }
            do throws(HTTPParseError) {
                if let request = try parser.feed(buffer, count: n) { return server.handle(self, request, now: now) }
            } catch {
                return server.finish(self, .response(error.status, error.reason))
            }
        }
    }
}

/// `ice-agent call http://...`: the doorbell side. Requests run on the event loop without
/// blocking it (non-blocking connect, send and receive), one at a time and in order: the offer,
/// then each trickle PATCH. Only the final DELETE, on the way out, is a blocking exchange.
public final class HTTPSignalingClient: SignalingSink, TimerClient {
    let url: HTTPURL
    let server: TransportAddress
    let session: Session
    let loop: EventLoop
    var location: String? = nil
    public internal(set) var failed = false
    /// Called when the offer fails (no answer, refused): the call cannot proceed.
    public var onFatal: (() -> Void)? = nil
    static let timeoutMilliseconds: Int32 = 5000
    static let timeout = Interval.milliseconds(5000)

    enum Pending {
        case offer(String)
        case trickle(TrickleFragment)
        case delete
    }
    var queue: [Pending] = []
    var inFlight: HTTPExchange? = nil

    public init(url: HTTPURL, server: TransportAddress, session: Session, loop: EventLoop) {
        self.url = url
        self.server = server
        self.session = session
        self.loop = loop
        loop.addTimerClient(self)
    }

    // MARK: SignalingSink

    public func sendDescription(_ sdp: String) {
        queue.append(.offer(sdp))
        startNext()
    }

    public func sendCandidate(_ c: Candidate) {
        var f = fragment()
        f.candidates = [c]
        queue.append(.trickle(f))
        startNext()
    }

    public func sendEndOfCandidates() {
        var f = fragment()
        f.endOfCandidates = true
        queue.append(.trickle(f))
        startNext()
    }

    func fragment() -> TrickleFragment {
        var f = TrickleFragment()
        f.iceUfrag = session.agent.localCredentials.ufragText
        f.icePwd = session.agent.localCredentials.passwordText
        f.mid = "0"
        return f
    }

    var locationPath: String? {
        guard let location else { return nil }
        // A relative Location resolves against the server (RFC 9110 §10.2.2).
        return location.hasPrefix("http://") ? (HTTPURL(location)?.path ?? location) : location
    }

    func startNext() {
        guard inFlight == nil, !failed, !queue.isEmpty else { return }
        let item = queue.removeFirst()
        let request: HTTPMessage
        switch item {
        case .offer(let sdp):
            request = .request("POST", url.path, headers: [("Host", url.hostAndPort), ("Content-Type", "application/sdp")],
                               body: Array(sdp.utf8))
        case .trickle(let f):
            guard let path = locationPath else { return }  // the offer failed: nothing to patch
            request = .request("PATCH", path, headers: [("Host", url.hostAndPort), ("Content-Type", "application/trickle-ice-sdpfrag")],
                               body: Array(f.serialize().utf8))
        case .delete:
            guard let path = locationPath else { return detach() }
            request = .request("DELETE", path, headers: [("Host", url.hostAndPort)])
        }
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
        case .offer:
            guard let r = response, r.status == 201, let loc = r.header("location") else {
                Log.error("signaling: offer not accepted by \(url.hostAndPort): " + (response.map { "HTTP \($0.status)" } ?? error))
                failed = true
                onFatal?()
                return
            }
            location = loc
            do throws(SDPError) {
                try session.receiveDescription(String(decoding: r.body, as: UTF8.self), now: now)
            } catch {
                Log.error("signaling: answer rejected: \(error.description)")
                failed = true
                onFatal?()
                return
            }
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

    // MARK: TimerClient (request timeout)

    public var nextDeadline: Instant? { inFlight.map { $0.started + Self.timeout } }

    public func handleTimeout(now: Instant) {
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
            try stream.send(HTTPMessage.request("DELETE", path, headers: [("Host", url.hostAndPort)]).serialize())
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
