import Common
import HTTP
import ICE
import Runtime

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
    /// `--tls-cert`/`--tls-key`: every connection is TLS (RFC 9725 §4.7); nil: plain HTTP.
    let tls: TLSServerConfiguration?
    var served: [ServedSession] = []
    var connections: [HTTPConnection] = []
    var sessionsCreated = 0
    var random = SystemRandom()
    /// The session holding the media ports, if any.
    var mediaOwner: ServedSession? = nil
    /// Every ICE state change of every session (the daemon's status LEDs).
    /// Its sessions' state changes, for the owner (the LEDs), polled on the loop.
    var stateChanges = OwnerEvents<AgentState>()

    public init(listen: TransportAddress, loop: EventLoop, policy: HTTPSignalingPolicy, tls: TLSServerConfiguration? = nil,
                makeSession: @escaping () -> Session?) throws(SocketError) {
        listener = try TCPListener(bind: listen)
        self.tls = tls
        self.loop = loop
        self.policy = policy
        self.makeSession = makeSession
        try? loop.register(fd: listener.descriptor, self)
        loop.addTimerClient(self)
    }

    /// The sessions alive now.
    public var sessions: [Session] { served.map { $0.session } }

    public func readable(now: Instant) {
        while let stream = listener.accept() {
            guard connections.count < policy.maxConnections,
                  connections.count(where: { $0.stream.peer.ip == stream.peer.ip }) < policy.maxConnectionsPerAddress else {
                // A TLS client cannot read a plaintext 503: it only sees the close.
                if tls == nil { _ = try? stream.send(busy(retryAfter: 1).serialize()) }
                continue
            }
            var session: TLSServerConnection? = nil
            if let tls {
                do throws(TLSError) { session = try TLSServerConnection(configuration: tls, descriptor: stream.descriptor) } catch {
                    Log.warning("signaling: TLS: \(error.description)")
                    continue
                }
            }
            let c = HTTPConnection(stream: stream, server: self, opened: now, tls: session)
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
            consider(s.session.eventDeadline)
            consider(s.endAt)
            if !s.connected { consider(s.setupStarted + policy.setupTimeout) }
            if let m = policy.maxSessionLength { consider(s.created + m) }
        }
        return d
    }

    public func handleTimeout(now: Instant) {
        pollSessions(now: now)
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
        if c.canRespond { c.send(withCORS(m, for: c).serialize()) }
        drop(c)
    }

    /// Closes `c` without a response (a failed or unfinished TLS handshake).
    func drop(_ c: HTTPConnection) {
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
}
