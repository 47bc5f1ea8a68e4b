import Foundation
import TestSupport
import Testing

/// CORS on `answer --listen` (Fetch standard, CORS protocol; RFC 9725 §4.2): a browser page
/// POSTs its offer itself, so the endpoint answers the preflight and marks its responses for
/// the origins `--allow-origin` names, and for no other. The bearer token still guards every
/// request but the preflight, which browsers send without credentials.
@Suite(.serialized) struct SignalingCORSTests {
    static let viewer = "http://viewer.example:8000"
    static let token = "cors-test-token-4f1d2a"

    func home(_ port: UInt16, origins: [String]) throws -> Background {
        let tokenFile = try tempFile(Self.token + "\n")
        return try startHome(port, ["--token-file", tokenFile] + origins.flatMap { ["--allow-origin", $0] }, seconds: 30)
    }

    /// What Chromium sends before a POST with Authorization and Content-Type: application/sdp.
    func preflight(_ port: UInt16, origin: String?, path: String = "/whip", method: String = "POST") -> HTTPResponse {
        let o = origin.map { "Origin: \($0)\r\n" } ?? ""
        return exchange(port, "OPTIONS \(path) HTTP/1.1\r\nHost: home\r\n\(o)Access-Control-Request-Method: \(method)\r\n"
                        + "Access-Control-Request-Headers: authorization,content-type\r\n\r\n")
    }

    func corsFields(_ r: HTTPResponse) -> [String] {
        let head = r.raw.components(separatedBy: "\r\n\r\n").first ?? ""
        return head.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("access-control-") }
    }

    func list(_ value: String?) -> Set<String> {
        Set((value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    @Test func preflightFromAnAllowedOriginNeedsNoTokenAndAllowsWHIP() throws {
        let port = freeTCPPort()
        let server = try home(port, origins: ["http://other.example", Self.viewer])
        defer { server.stop() }
        let r = preflight(port, origin: Self.viewer)
        #expect(r.status == 204, "\(r.raw)\n\(server.output)")
        #expect(r.header("access-control-allow-origin") == Self.viewer, "\(r.raw)")
        #expect(list(r.header("vary")).contains("origin"), "\(r.raw)")
        #expect(list(r.header("access-control-allow-methods")).isSuperset(of: ["post", "patch", "delete", "options"]), "\(r.raw)")
        #expect(list(r.header("access-control-allow-headers")).isSuperset(of: ["authorization", "content-type", "if-match"]), "\(r.raw)")
        #expect(list(r.header("access-control-expose-headers")).isSuperset(of: ["location", "etag", "link"]), "\(r.raw)")
        let maxAge = Int(r.header("access-control-max-age") ?? "") ?? -1
        #expect(maxAge > 0 && maxAge <= 86_400, "\(r.raw)")
        // The PATCH and DELETE of a session are preflighted too; no session is looked up.
        let onSession = preflight(port, origin: Self.viewer, path: "/session/0123", method: "PATCH")
        #expect(onSession.status == 204 && onSession.header("access-control-allow-origin") == Self.viewer, "\(onSession.raw)")
        // The other configured origin gets its own name back, never the list.
        #expect(preflight(port, origin: "http://other.example").header("access-control-allow-origin") == "http://other.example")
    }

    @Test func preflightFromAnyOtherOriginGetsNoCORSFields() throws {
        let port = freeTCPPort()
        let server = try home(port, origins: [Self.viewer])
        defer { server.stop() }
        // Near misses of the allowed origin, an opaque origin (file:, data:) and none at all.
        for origin in ["http://evil.example", "http://viewer.example:8001", "https://viewer.example:8000",
                       "http://viewer.example:8000.evil.example", "http://viewer.example", "null", nil] as [String?] {
            let r = preflight(port, origin: origin)
            #expect(r.status == 204, "\(origin ?? "no Origin"): \(r.raw)")
            #expect(corsFields(r).isEmpty, "\(origin ?? "no Origin"): \(r.raw)")
            #expect(list(r.header("allow")).contains("post"), "\(r.raw)")
        }
        // Two Origin fields are no browser's request: nothing is allowed.
        let doubled = exchange(port, "OPTIONS /whip HTTP/1.1\r\nOrigin: \(Self.viewer)\r\nOrigin: http://evil.example\r\n\r\n")
        #expect(doubled.status == 204 && corsFields(doubled).isEmpty, "\(doubled.raw)")
    }

    @Test func requestsFromAnAllowedOriginAreMarkedAndStillNeedTheToken() throws {
        let port = freeTCPPort()
        let server = try home(port, origins: [Self.viewer])
        defer { server.stop() }
        let origin = "Origin: \(Self.viewer)\r\n"
        // Without the token: 401, readable by the page (so it can say why).
        let refused = post(port, offerSDP(), extraHeaders: origin)
        #expect(refused.status == 401, "\(refused.raw)")
        #expect(refused.header("access-control-allow-origin") == Self.viewer, "\(refused.raw)")
        #expect(refused.header("www-authenticate")?.hasPrefix("Bearer") == true, "\(refused.raw)")

        let created = post(port, offerSDP(), token: Self.token, extraHeaders: origin)
        #expect(created.status == 201, "\(created.raw)\n\(server.output)")
        #expect(created.header("access-control-allow-origin") == Self.viewer, "\(created.raw)")
        #expect(list(created.header("vary")).contains("origin"), "\(created.raw)")
        #expect(list(created.header("access-control-expose-headers")).isSuperset(of: ["location", "etag"]), "\(created.raw)")
        let location = try #require(created.header("location"))

        // The session's DELETE without the token is refused and the session lives on.
        let unauthorizedDelete = exchange(port, "DELETE \(location) HTTP/1.1\r\nHost: home\r\n\(origin)\r\n")
        #expect(unauthorizedDelete.status == 401, "\(unauthorizedDelete.raw)")
        let deleted = exchange(port, "DELETE \(location) HTTP/1.1\r\nHost: home\r\nAuthorization: Bearer \(Self.token)\r\n\(origin)\r\n")
        #expect(deleted.status == 200 && deleted.header("access-control-allow-origin") == Self.viewer, "\(deleted.raw)")
        #expect(waitUntil { server.output.contains("session 1 deleted") }, "\(server.output)")

        // A page of another origin: the server answers (CORS is the browser's to enforce), but
        // without the fields the browser needs to hand the answer to that page.
        let foreign = post(port, offerSDP(ufrag: "frgn"), token: Self.token, extraHeaders: "Origin: http://evil.example\r\n")
        #expect(foreign.status == 201, "\(foreign.raw)")
        #expect(corsFields(foreign).isEmpty, "\(foreign.raw)")
    }

    @Test func withoutAllowOriginNoResponseHasCORSFields() throws {
        let port = freeTCPPort()
        let server = try home(port, origins: [])
        defer { server.stop() }
        let pre = preflight(port, origin: Self.viewer)
        #expect(pre.status == 204 && corsFields(pre).isEmpty, "\(pre.raw)")
        let created = post(port, offerSDP(), token: Self.token, extraHeaders: "Origin: \(Self.viewer)\r\n")
        #expect(created.status == 201, "\(created.raw)\n\(server.output)")
        #expect(corsFields(created).isEmpty, "\(created.raw)")
        // OPTIONS is the only method exempt from the token.
        #expect(exchange(port, "GET /whip HTTP/1.1\r\nOrigin: \(Self.viewer)\r\n\r\n").status == 401)
    }

    @Test func allowOriginTakesOnlyASerializedWebOrigin() throws {
        let agent = try iceAgentPath()
        for bad in ["null", "*", "viewer.example", "http://viewer.example/", "http://viewer.example/page", "ftp://viewer.example",
                    "http://", "http://user@viewer.example", "http://viewer.example:8000 ", "http://viewer.example:"] {
            let r = try run(agent, ["answer", "--listen", "127.0.0.1:\(freeTCPPort())", "--allow-origin", bad, "--duration", "1"])
            #expect(r.status == 2, "\(bad): \(r.stderr)")
            #expect(r.stderr.contains("--allow-origin"), "\(bad): \(r.stderr)")
        }
        let stdio = try run(agent, ["answer", "--signal", "stdio", "--allow-origin", Self.viewer, "--duration", "1"])
        #expect(stdio.status == 2 && stdio.stderr.contains("--allow-origin is for answer --listen"), "\(stdio.stderr)")
        let help = try run(agent, ["answer", "--help"])
        #expect((help.stdout + help.stderr).contains("--allow-origin"), "\(help.stdout)")
    }

    /// Browsers send the origin lower-case (RFC 6454 §6.1); a configured one in capitals still matches.
    @Test func configuredOriginsAreCompared() throws {
        let port = freeTCPPort()
        let server = try home(port, origins: ["HTTP://Viewer.Example:8000"])
        defer { server.stop() }
        #expect(preflight(port, origin: Self.viewer).header("access-control-allow-origin") == Self.viewer)
    }
}
