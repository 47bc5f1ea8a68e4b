import Common
import HTTP
import ICE
import Runtime
import SDP

/// `ice-agent answer --listen ADDR:PORT`: the home side of WHIP-style signaling (RFC 9725).
/// A POSTed offer (application/sdp) gets a session and `201 Created` with the answer, an
/// unguessable Location and an ETag naming the ICE session; PATCH trickles candidates or
/// restarts ICE (application/trickle-ice-sdpfrag, RFC 8840); DELETE ends the session. A
/// session also ends when ICE fails (consent lost included, RFC 7675 §5.1), when it never
/// connects, and after the longest call allowed; everything it held goes with it.
public final class HTTPSignalingServer: ReadableHandler, TimerClient {
    public let listener: TCPListener
    let loop: EventLoop
    let policy: HTTPSignalingPolicy
    let makeSession: () -> Session?
    var served: [ServedSession] = []
    var connections: [HTTPConnection] = []
    var sessionsCreated = 0
    var random = SystemRandom()
    /// The session holding the media ports, if any.
    var mediaOwner: ServedSession? = nil
    /// Every ICE state change of every session (the daemon's status LEDs).
    public var onStateChange: ((Session, AgentState) -> Void)? = nil

    public init(listen: TransportAddress, loop: EventLoop, policy: HTTPSignalingPolicy,
                makeSession: @escaping () -> Session?) throws(SocketError) {
        listener = try TCPListener(bind: listen)
        self.loop = loop
        self.policy = policy
        self.makeSession = makeSession
        try? loop.register(fd: listener.descriptor, self)
        loop.addTimerClient(self)
    }

    /// The sessions alive now.
    public var sessions: [Session] { served.map { $0.session } }

    /// Connections open now (accepted, not yet answered).
    public var openConnections: Int { connections.count }

    public func readable(now: Instant) {
        while let stream = listener.accept() {
            guard connections.count < policy.maxConnections,
                  connections.count(where: { $0.stream.peer.ip == stream.peer.ip }) < policy.maxConnectionsPerAddress else {
                _ = try? stream.send(busy(retryAfter: 1).serialize())
                continue
            }
            let c = HTTPConnection(stream: stream, server: self, opened: now)
            connections.append(c)
            do throws(EventLoop.Failure) { try loop.register(fd: stream.descriptor, c) } catch {
                connections.removeAll { $0 === c }
            }
        }
    }

    // MARK: Timers

    public var nextDeadline: Instant? {
        var d: Instant? = nil
        func consider(_ t: Instant?) {
            if let t, d == nil || t < d! { d = t }
        }
        for c in connections {
            if let s = c.pendingAnswer {
                consider(s.session.gatheringDone ? .zero : c.answerDue)
            } else {
                consider(c.opened + policy.requestTimeout)
            }
        }
        for s in served {
            consider(s.endAt)
            if !s.connected { consider(s.setupStarted + policy.setupTimeout) }
            if let m = policy.maxSessionLength { consider(s.created + m) }
        }
        return d
    }

    public func handleTimeout(now: Instant) {
        for c in connections {
            if let s = c.pendingAnswer {
                if s.session.gatheringDone || now >= c.answerDue { sendAnswer(c, s) }
            } else if now >= c.opened + policy.requestTimeout {
                finish(c, .response(408, "Request Timeout"))
            }
        }
        for s in served {
            if let at = s.endAt, now >= at {
                end(s, s.endReason)
            } else if !s.connected && now >= s.setupStarted + policy.setupTimeout {
                end(s, "ended (ICE did not connect within \(policy.setupTimeout.milliseconds / 1000) s)")
            } else if let m = policy.maxSessionLength, now >= s.created + m {
                end(s, "ended (the longest call, \(m.milliseconds / 1000) s, was reached)")
            }
        }
    }

    // MARK: Responses

    func finish(_ c: HTTPConnection, _ m: HTTPMessage) {
        _ = try? c.stream.send(m.serialize())
        loop.unregister(fd: c.stream.descriptor)
        connections.removeAll { $0 === c }
    }

    func busy(retryAfter: Int) -> HTTPMessage {
        .response(503, "Service Unavailable", headers: [("Retry-After", "\(retryAfter)")])
    }

    /// When the home may be free again: a call still in setup ends by --setup-seconds at the
    /// latest; a connected one may last, so a client asks again after the configured pause.
    func retryAfterSeconds(now: Instant) -> Int {
        var soonest = policy.retryAfterSeconds
        for s in served where !s.connected {
            let left = Int(((s.setupStarted + policy.setupTimeout) - now).milliseconds / 1000) + 1
            soonest = min(soonest, max(1, left))
        }
        return soonest
    }

    /// RFC 6750 §3: the scheme, and why a presented token failed.
    func unauthorized(presented: Bool) -> HTTPMessage {
        .response(401, "Unauthorized",
                  headers: [("WWW-Authenticate", presented ? "Bearer realm=\"ice-agent\", error=\"invalid_token\"" : "Bearer realm=\"ice-agent\"")])
    }

    func sendAnswer(_ c: HTTPConnection, _ s: ServedSession) {
        c.pendingAnswer = nil
        finish(c, .response(201, "Created",
                            headers: [("Location", "/session/" + s.id), ("ETag", s.eTag), ("Content-Type", "application/sdp")],
                            body: Array(s.session.currentDescription().utf8)))
    }

    // MARK: Requests

    /// The head is in: refuse it before its body is read if it lacks the token.
    func authorized(_ head: HTTPMessage) -> Bool {
        guard let token = policy.token else { return true }
        return token.accepts(head.header("authorization"))
    }

    func refuseUnauthorized(_ c: HTTPConnection, _ head: HTTPMessage) {
        Log.info("signaling: \(head.method) from \(c.stream.peer) refused: no valid bearer token")
        finish(c, unauthorized(presented: head.header("authorization") != nil))
    }

    func handle(_ c: HTTPConnection, _ r: HTTPMessage, now: Instant) {
        guard authorized(r) else { return refuseUnauthorized(c, r) }
        guard r.target.hasPrefix("/session/") else {
            guard r.method == "POST" else {
                return finish(c, .response(405, "Method Not Allowed", headers: [("Allow", "POST")]))
            }
            return offer(c, r, now: now)
        }
        let id = Array(r.target.utf8.dropFirst("/session/".count))
        // Compared in constant time: the id is the capability to change the call.
        guard let s = served.first(where: { constantTimeEquals(Array($0.id.utf8)[...], id[...]) }) else {
            return finish(c, .response(404, "Not Found"))
        }
        switch r.method {
        case "PATCH":
            patch(c, r, s, now: now)
        case "DELETE":
            end(s, "deleted")
            finish(c, .response(200, "OK"))
        default:
            finish(c, .response(405, "Method Not Allowed", headers: [("Allow", "PATCH, DELETE")]))
        }
    }

    func offer(_ c: HTTPConnection, _ r: HTTPMessage, now: Instant) {
        guard r.header("content-type")?.hasPrefix("application/sdp") == true else {
            return finish(c, .response(415, "Unsupported Media Type"))
        }
        guard served.count < policy.maxSessions else {
            Log.info("signaling: offer from \(c.stream.peer) refused: a call is in progress")
            return finish(c, busy(retryAfter: retryAfterSeconds(now: now)))
        }
        // The offer is checked before anything is bound: a bad one costs no socket.
        let body = String(decoding: r.body, as: UTF8.self)
        do throws(SDPError) {
            let d = try SessionDescription.parse(body)
            guard d.credentials(media: 0) != nil else { throw SDPError(.badCredentials, line: 0) }
        } catch {
            return finish(c, .response(400, "Bad Request", body: Array(error.description.utf8)))
        }
        guard let session = makeSession() else {
            return finish(c, .response(500, "Internal Server Error"))
        }
        do throws(SDPError) {
            try session.receiveDescription(body, now: now)
        } catch {
            session.close()
            return finish(c, .response(400, "Bad Request", body: Array(error.description.utf8)))
        }
        sessionsCreated += 1
        let s = ServedSession(number: sessionsCreated, id: newSessionID(), session: session, created: now)
        served.append(s)
        session.onStateChange = { state in self.stateChanged(s, state) }
        Log.info("signaling: session \(s.number) from \(c.stream.peer)")
        session.start(now: now)
        c.pendingAnswer = s
        c.answerDue = now + policy.gatherWait
        if session.gatheringDone { sendAnswer(c, s) }
    }

    /// RFC 9725 §4.3: trickle (204, §4.3.2) or ICE restart (200 with the new credentials, §4.3.3).
    func patch(_ c: HTTPConnection, _ r: HTTPMessage, _ s: ServedSession, now: Instant) {
        guard r.header("content-type")?.hasPrefix("application/trickle-ice-sdpfrag") == true else {
            return finish(c, .response(415, "Unsupported Media Type"))
        }
        let f: TrickleFragment
        do throws(SDPError) { f = try TrickleFragment.parse(String(decoding: r.body, as: UTF8.self)) } catch {
            return finish(c, .response(400, "Bad Request", body: Array(error.description.utf8)))
        }
        guard let ufrag = f.iceUfrag, let pwd = f.icePwd, validICEText(ufrag, 4...256), validICEText(pwd, 22...256) else {
            return finish(c, .response(400, "Bad Request", body: Array("the fragment needs a=ice-ufrag and a=ice-pwd (RFC 8839 §5.4)".utf8)))
        }
        // RFC 9725 §4.3.2: a trickle PATCH names its ICE session in If-Match (428 without it);
        // §4.3.3: If-Match: * asks for a restart.
        guard let ifMatch = r.header("if-match") else {
            return finish(c, .response(428, "Precondition Required"))
        }
        if ifMatch == "*" { return restart(c, s, f, ufrag: ufrag, pwd: pwd, now: now) }
        // A PATCH for another ICE session than the current one is refused with 412, whether
        // the ETag or the fragment's credentials tell it.
        if !entityTagMatches(ifMatch, s.eTag) {
            return finish(c, .response(412, "Precondition Failed", headers: [("ETag", s.eTag)]))
        }
        guard let remote = s.session.agent.remoteCredentials,
              constantTimeEquals(Array(ufrag.utf8)[...], remote.ufrag[...]) && constantTimeEquals(Array(pwd.utf8)[...], remote.password[...]) else {
            return finish(c, .response(412, "Precondition Failed", headers: [("ETag", s.eTag)],
                                       body: Array("ice-ufrag/ice-pwd are not this session's; an ICE restart needs If-Match: * (RFC 9725 §4.3.3)".utf8)))
        }
        s.session.receiveFragment(f, now: now)
        finish(c, .response(204, "No Content"))
    }

    /// RFC 9725 §4.3.3 and RFC 8445 §9: new credentials from the peer restart ICE; the answer
    /// carries ours. A restart that cannot be done leaves the ICE session as it was.
    func restart(_ c: HTTPConnection, _ s: ServedSession, _ f: TrickleFragment, ufrag: String, pwd: String, now: Instant) {
        if let remote = s.session.agent.remoteCredentials, remote.ufrag == Array(ufrag.utf8) || remote.password == Array(pwd.utf8) {
            return finish(c, .response(400, "Bad Request",
                                       body: Array("an ICE restart needs a new ice-ufrag and ice-pwd (RFC 8445 §9)".utf8)))
        }
        s.session.restartICE(f, ufrag: ufrag, pwd: pwd, now: now)
        // The new ICE session gets the same time to connect as the first one; consent on the
        // old pair is no longer checked (RFC 8445 §9), so nothing else would end it.
        s.connected = false
        s.setupStarted = now
        Log.info("signaling: session \(s.number): ICE restart")
        finish(c, .response(200, "OK", headers: [("ETag", s.eTag), ("Content-Type", "application/trickle-ice-sdpfrag")],
                            body: Array(s.session.restartFragment().utf8)))
    }

    // MARK: Session lifecycle

    /// Called inside the session's event processing: ending is left to the timer, so a
    /// session is never closed from its own callback.
    func stateChanged(_ s: ServedSession, _ state: AgentState) {
        switch state {
        case .connected, .completed:
            s.connected = true
            giveMedia(to: s)
        case .failed:
            if s.endAt == nil {
                s.endAt = monotonicNow()
                s.endReason = "ended (ICE failed)"
            }
        default:
            break
        }
        onStateChange?(s.session, state)
    }

    /// The media ports go to a connected call when no other holds them.
    func giveMedia(to s: ServedSession) {
        guard mediaOwner == nil, policy.rtpIn != nil || policy.rtpOut != nil, s.endAt == nil else { return }
        do throws(SessionError) {
            try s.session.attachMedia(rtpIn: policy.rtpIn, rtpOut: policy.rtpOut)
            mediaOwner = s
            Log.info("signaling: session \(s.number) has the media ports")
        } catch {
            Log.warning("signaling: session \(s.number): \(error.description)")
        }
    }

    /// Releases everything the session held: sockets, TURN allocations, timers, the media
    /// ports (then handed to another connected call, if any).
    func end(_ s: ServedSession, _ reason: String) {
        guard let i = served.firstIndex(where: { $0 === s }) else { return }
        served.remove(at: i)
        s.session.onStateChange = nil
        s.session.close()
        for c in connections where c.pendingAnswer === s {
            c.pendingAnswer = nil
            finish(c, busy(retryAfter: policy.retryAfterSeconds))
        }
        Log.info("signaling: session \(s.number) \(reason)")
        if mediaOwner === s {
            mediaOwner = nil
            for other in served where other.connected {
                giveMedia(to: other)
                if mediaOwner != nil { break }
            }
        }
    }

    /// Ends every session (on the way out).
    public func closeAll() {
        for s in served { end(s, "ended (shutting down)") }
    }

    /// 128 bits from the system's random source, as hex: the session's path cannot be
    /// guessed from another's.
    func newSessionID() -> String {
        var words: [UInt64] = [random.next(), random.next()]
        return words.withUnsafeMutableBytes { hexString(UnsafeRawBufferPointer($0)) }
    }
}

/// One session served over HTTP: its resource id, log number and lifetime.
final class ServedSession {
    let number: Int
    let id: String
    let session: Session
    let created: Instant
    /// The offer, or the last ICE restart: --setup-seconds count from here.
    var setupStarted: Instant
    var connected = false
    /// End requested (from the session's own callback), done on the next timer turn.
    var endAt: Instant? = nil
    var endReason = ""

    init(number: Int, id: String, session: Session, created: Instant) {
        self.number = number
        self.id = id
        self.session = session
        self.created = created
        setupStarted = created
    }

    /// A strong entity-tag naming the current ICE session (RFC 9725 §4.3.1): the local ufrag,
    /// which every restart changes.
    var eTag: String { "\"" + session.agent.localCredentials.ufragText + "\"" }
}

/// RFC 9110 §13.1.1: If-Match holds "*" or a list of entity-tags; strong comparison.
func entityTagMatches(_ field: String, _ tag: String) -> Bool {
    field.split(separator: ",").contains { $0.split(separator: " ").joined() == tag }
}

/// RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/", within the length limits.
func validICEText(_ s: String, _ lengths: ClosedRange<Int>) -> Bool {
    lengths.contains(s.utf8.count) && s.utf8.allSatisfy { c in
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 43 || c == 47
    }
}

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
