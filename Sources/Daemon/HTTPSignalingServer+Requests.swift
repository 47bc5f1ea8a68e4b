import Common
import HTTP
import ICE
import Runtime
import SDP

/// Requests on the signaling resources (RFC 9725 §4): the offer POST, trickle and restart
/// PATCHes, DELETE.
extension HTTPSignalingServer {
    /// The head is in: refuse it before its body is read if it lacks the token.
    func authorized(_ head: HTTPMessage) -> Bool {
        // Browsers send a CORS preflight without credentials (Fetch standard, CORS-preflight
        // request); it changes nothing and reveals no session.
        if head.method == "OPTIONS" { return true }
        guard let token = policy.token else { return true }
        return token.accepts(head.header("authorization"))
    }

    func refuseUnauthorized(_ c: HTTPConnection, _ head: HTTPMessage) {
        Log.info("signaling: \(head.method) from \(c.stream.peer) refused: no valid bearer token")
        finish(c, unauthorized(presented: head.header("authorization") != nil))
    }

    func handle(_ c: HTTPConnection, _ r: HTTPMessage, now: Instant) {
        guard authorized(r) else { return refuseUnauthorized(c, r) }
        if r.method == "OPTIONS" { return finish(c, preflight(r)) }
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
}

/// CORS (Fetch standard, CORS protocol) for pages that POST their offer from a browser
/// (RFC 9725 §4.2): only origins in `--allow-origin` get the headers; without them the browser
/// keeps the response from the page.
extension HTTPSignalingServer {
    static let corsMethods = "POST, PATCH, DELETE, OPTIONS"
    /// What a WHIP client sends (RFC 9725 §4.3, §4.7.1) and must read (Location, the ETag for
    /// If-Match, Link for ICE servers).
    static let corsRequestHeaders = "Authorization, Content-Type, If-Match"
    static let corsExposedHeaders = "Location, ETag, Link"

    /// The request's Origin when it is one allowed; a request with several Origin fields is
    /// not a browser's and gets none.
    func allowedOrigin(_ r: HTTPMessage) -> String? {
        guard !policy.allowedOrigins.isEmpty else { return nil }
        var origin: String? = nil
        for h in r.headers where h.name == "origin" {
            guard origin == nil else { return nil }
            origin = h.value
        }
        guard let origin, policy.allowedOrigins.contains(origin) else { return nil }
        return origin
    }

    /// RFC 9110 §9.3.7 OPTIONS on any path (no session is looked up); the CORS fields only
    /// for an allowed origin.
    func preflight(_ r: HTTPMessage) -> HTTPMessage {
        var headers = [("Allow", Self.corsMethods)]
        if let origin = allowedOrigin(r) {
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                        ("Access-Control-Allow-Methods", Self.corsMethods),
                        ("Access-Control-Allow-Headers", Self.corsRequestHeaders),
                        ("Access-Control-Expose-Headers", Self.corsExposedHeaders),
                        ("Access-Control-Max-Age", "\(policy.preflightMaxAgeSeconds)")]
        }
        return .response(204, "No Content", headers: headers)
    }

    /// Any response on `c` (errors and the 401 included, so the page can read why): the
    /// request's allowed origin, and the fields it may read.
    func withCORS(_ m: HTTPMessage, for c: HTTPConnection) -> HTTPMessage {
        guard m.header("access-control-allow-origin") == nil, let head = c.parser.head, let origin = allowedOrigin(head) else { return m }
        var m = m
        m.headers += [("access-control-allow-origin", origin), ("vary", "Origin"),
                      ("access-control-expose-headers", Self.corsExposedHeaders)]
        return m
    }
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
