import Foundation
import TestSupport
import Testing

/// `answer --listen` on a hostile network: unguessable session resources checked against the
/// ICE session, bearer tokens, sessions that end by themselves, one
/// call at a time owning the media ports, and no busy loop while an answer waits.
@Suite(.serialized) struct SignalingSecurityTests {
    // MARK: Helpers

    /// User plus system CPU time of a process, in clock ticks.
    func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (proc(5)).
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    // MARK: Session resources

    @Test func sessionResourcesAreUnguessableAndTiedToTheICESession() throws {
        let port = freeTCPPort()
        let server = try startHome(port)
        defer { server.stop() }
        let created = post(port, offerSDP())
        #expect(created.status == 201, "\(created.raw)\n\(server.output)")
        let location = try #require(created.header("location"))
        // 128 bits from the system's random source, in hex.
        #expect(location.range(of: "^/session/[0-9a-f]{32}$", options: .regularExpression) != nil, "\(location)")
        let eTag = try #require(created.header("etag"))
        #expect(eTag.hasPrefix("\"") && eTag.hasSuffix("\""))
        let homeUfrag = try #require(created.body.components(separatedBy: "\r\n").first { $0.hasPrefix("a=ice-ufrag:") })

        // One call at a time: the next offer is told when to come back.
        let busy = post(port, offerSDP(ufrag: "othr"))
        #expect(busy.status == 503 && busy.header("retry-after") == "10", "\(busy.raw)")

        // Trickle for another ICE session: refused (RFC 9725 §4.3.2), by credentials or by ETag.
        let candidate = "candidate:1 1 UDP 2122317823 127.0.0.1 9 typ host"
        #expect(patch(port, location, fragment(ufrag: "door", pwd: "notthedoorbellpassword", candidates: [candidate]), ifMatch: eTag).status == 412)
        #expect(patch(port, location, fragment(ufrag: "evil", pwd: "doorbellpassword012345", candidates: [candidate]), ifMatch: eTag).status == 412)
        #expect(patch(port, location, fragment(ufrag: "door", pwd: "doorbellpassword012345"), ifMatch: "\"stale\"").status == 412)
        #expect(patch(port, location, "a=mid:0\r\n" + "a=\(candidate)\r\n", ifMatch: eTag).status == 400)
        // Without If-Match a trickle PATCH cannot say which ICE session it is for.
        #expect(patch(port, location, fragment(ufrag: "door", pwd: "doorbellpassword012345", candidates: [candidate])).status == 428)
        // The session's own credentials and ETag: accepted.
        #expect(patch(port, location, fragment(ufrag: "door", pwd: "doorbellpassword012345", candidates: [candidate]), ifMatch: eTag).status == 204)

        // Unknown ids, sequential ones included, are 404 for every method.
        #expect(patch(port, "/session/1", fragment(ufrag: "door", pwd: "doorbellpassword012345"), ifMatch: eTag).status == 404)
        #expect(delete(port, "/session/1").status == 404)
        #expect(delete(port, String(location.dropLast())).status == 404)

        // ICE restart (RFC 9725 §4.3.3): If-Match: * with new credentials; the answer has ours.
        let sameAgain = patch(port, location, fragment(ufrag: "door", pwd: "doorbellpassword012345"), ifMatch: "*")
        #expect(sameAgain.status == 400, "\(sameAgain.raw)")
        let restarted = patch(port, location, fragment(ufrag: "new1", pwd: "newdoorbellpassword0123", candidates: [candidate]), ifMatch: "*")
        #expect(restarted.status == 200, "\(restarted.raw)\n\(server.output)")
        #expect(restarted.header("content-type") == "application/trickle-ice-sdpfrag")
        let newUfrag = try #require(restarted.body.components(separatedBy: "\r\n").first { $0.hasPrefix("a=ice-ufrag:") })
        #expect(newUfrag != homeUfrag && restarted.body.contains("a=ice-pwd:") && restarted.body.contains("typ host"), "\(restarted.body)")
        let newTag = try #require(restarted.header("etag"))
        #expect(newTag != eTag)
        // After the restart, the old ICE session's credentials and ETag are stale.
        #expect(patch(port, location, fragment(ufrag: "door", pwd: "doorbellpassword012345"), ifMatch: newTag).status == 412)
        #expect(patch(port, location, fragment(ufrag: "new1", pwd: "newdoorbellpassword0123"), ifMatch: eTag).status == 412)
        #expect(patch(port, location, fragment(ufrag: "new1", pwd: "newdoorbellpassword0123"), ifMatch: newTag).status == 204)

        #expect(delete(port, location).status == 200)
        #expect(delete(port, location).status == 404)
        #expect(waitUntil { server.output.contains("session 1 deleted") }, "\(server.output)")
        // The home is free again.
        let next = post(port, offerSDP())
        #expect(next.status == 201, "\(next.raw)")
        #expect(next.header("location") != location)
    }

    @Test func sessionsEndWithoutADelete() throws {
        let port = freeTCPPort()
        let server = try startHome(port, ["--setup-seconds", "2", "--max-session-seconds", "4"])
        defer { server.stop() }
        // An offer whose peer never checks: ended after --setup-seconds, and the home is free.
        let offered = Date()
        let created = post(port, offerSDP())
        #expect(created.status == 201)
        // An ICE restart gives the new ICE session its own --setup-seconds.
        usleep(1_000_000)
        let location = try #require(created.header("location"))
        let restarted = patch(port, location, fragment(ufrag: "new1", pwd: "newdoorbellpassword0123"), ifMatch: "*")
        #expect(restarted.status == 200, "\(restarted.raw)")
        let newTag = try #require(restarted.header("etag"))
        while Date().timeIntervalSince(offered) < 2.4 { usleep(20_000) }
        #expect(patch(port, location, fragment(ufrag: "new1", pwd: "newdoorbellpassword0123"), ifMatch: newTag).status == 204,
                "\(server.output)")
        #expect(waitUntil(timeout: 5) { server.output.contains("session 1 ended (ICE did not connect within 2 s)") }, "\(server.output)")
        #expect(Date().timeIntervalSince(offered) >= 2.9)
        // A real call that lasts longer than --max-session-seconds.
        let call = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                                       "--duration", "9"])
        defer { call.stop() }
        #expect(waitUntil { server.output.contains("home: ICE completed") }, "\(server.output)")
        #expect(waitUntil(timeout: 7) { server.output.contains("session 2 ended (the longest call, 4 s, was reached)") },
                "\(server.output)")
        #expect(post(port, offerSDP()).status == 201, "\(server.output)")
    }

    /// A doorbell that finds the home busy asks again after Retry-After: a call still in setup
    /// frees the home within --setup-seconds, and the 503 says so.
    @Test func aBusyHomeIsAskedAgainAfterRetryAfter() throws {
        let port = freeTCPPort()
        let server = try startHome(port, ["--setup-seconds", "2"])
        defer { server.stop() }
        #expect(post(port, offerSDP()).status == 201)
        let busy = post(port, offerSDP())
        #expect(busy.status == 503 && ["1", "2"].contains(busy.header("retry-after")), "\(busy.raw)")
        let r = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                             "--duration", "6"], timeout: 20)
        #expect(r.status == 0, "\(r.stderr)\n\(server.output)")
        #expect(r.stderr.contains("HTTP 503: the home is busy (retry after") && r.stderr.contains("offering again in"), "\(r.stderr)")
        #expect(r.stderr.contains("doorbell: ICE completed"), "\(r.stderr)")
        #expect(server.output.contains("session 2 from"), "\(server.output)")
    }

    /// One address cannot hold every connection slot: the fifth idle connection from it is
    /// answered 503 at once, and the slots come back when the idle ones go.
    @Test func oneAddressHoldsAtMostFourConnections() throws {
        let port = freeTCPPort()
        let server = try startHome(port)
        defer { server.stop() }
        let idle = (0..<4).map { _ in connectTCP(port) }
        #expect(idle.allSatisfy { $0 >= 0 })
        usleep(200_000)
        let fifth = exchange(port, "DELETE /session/0 HTTP/1.1\r\n\r\n")
        #expect(fifth.status == 503 && fifth.header("retry-after") != nil, "\(fifth.raw)")
        for fd in idle { close(fd) }
        usleep(200_000)
        #expect(exchange(port, "DELETE /session/0 HTTP/1.1\r\n\r\n").status == 404)
    }

    // MARK: Authentication

    @Test func bearerTokenIsRequiredAndSentByCall() throws {
        let token = "tk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let tokenFile = try tempFile(token + "\n")
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        // The home reads the token file's path from its configuration file.
        let config = try tempFile("token-file = \(tokenFile)\nmax-session-seconds = 0\ngather-wait = 500\nsetup-seconds = 20\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let port = freeTCPPort()
        let server = try startHome(port, ["--config", config])
        defer { server.stop() }
        #expect(!server.output.contains("no --token-file"), "\(server.output)")

        let none = post(port, offerSDP())
        #expect(none.status == 401 && none.header("www-authenticate")?.hasPrefix("Bearer") == true, "\(none.raw)")
        let wrong = post(port, offerSDP(), token: String(token.dropLast()) + "x")
        #expect(wrong.status == 401 && wrong.header("www-authenticate")?.contains("invalid_token") == true, "\(wrong.raw)")
        #expect(delete(port, "/session/0123456789abcdef0123456789abcdef").status == 401)
        // Refused on the head alone: the server does not wait for a body it will not read.
        let fd = connectTCP(port)
        defer { close(fd) }
        let head = "POST /whip HTTP/1.1\r\nContent-Type: application/sdp\r\nContent-Length: 60000\r\n\r\n"
        _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let start = Date()
        #expect(readAll(fd).hasPrefix("HTTP/1.1 401"))
        #expect(Date().timeIntervalSince(start) < 2)

        // call without the token: a clear error and exit 1; with it: the call completes.
        let refused = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                                   "--duration", "5"], timeout: 15)
        #expect(refused.status == 1 && refused.stderr.contains("HTTP 401"), "\(refused.stderr)")
        // With a STUN server, end-of-candidates follows the offer by PATCH, with the token and
        // the ETag of the 201 as If-Match: it must be taken (204), not refused.
        let stunPort = freeUDPPort()
        let stun = try Background(try iceAgentPath(), ["stun", "server", "--listen", "127.0.0.1:\(stunPort)"])
        defer { stun.stop() }
        let ok = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--token-file", tokenFile, "--allow-loopback",
                                              "--interface", "lo", "--stun", "127.0.0.1:\(stunPort)", "--duration", "2",
                                              "--log-level", "debug"], timeout: 15)
        #expect(ok.status == 0, "\(ok.stderr)\n\(server.output)")
        #expect(!ok.stderr.contains("trickle PATCH"), "\(ok.stderr)")
        #expect(waitUntil { server.output.contains("session 1 deleted") }, "\(server.output)")
        // The home asked for no token on the command line: nothing secret in its argv.
        #expect(!server.process.arguments!.joined(separator: " ").contains(token))
    }

    @Test func withoutATokenTheServerWarnsAndBadTokenFilesAreUsageErrors() throws {
        let port = freeTCPPort()
        let server = try startHome(port)
        defer { server.stop() }
        #expect(server.output.contains("no --token-file: anyone who reaches 127.0.0.1:\(port) can place and end calls"), "\(server.output)")
        let bad = try tempFile("two words\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let r = try run(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:9", "--token-file", bad])
        #expect(r.status == 2 && r.stderr.contains("not allowed in a bearer token"), "\(r.stderr)")
        let missing = try run(try iceAgentPath(), ["call", "http://127.0.0.1:9/", "--token-file", "/nonexistent/token"])
        #expect(missing.status == 2 && missing.stderr.contains("--token-file: cannot read"), "\(missing.stderr)")
        let userFile = try tempFile("alice-without-password\n")
        defer { try? FileManager.default.removeItem(atPath: userFile) }
        let u = try run(try iceAgentPath(), ["call", "--signal", "stdio", "--turn", "turn:127.0.0.1", "--turn-user-file", userFile])
        #expect(u.status == 2 && u.stderr.contains("one line USER:PASSWORD expected"), "\(u.stderr)")
    }

    @Test func statusSocketIsForTheDaemonsUserOnly() throws {
        let sock = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString).sock").path
        defer { try? FileManager.default.removeItem(atPath: sock) }
        let port = freeTCPPort()
        let server = try startHome(port, ["--status-socket", sock])
        defer { server.stop() }
        #expect(waitUntil { FileManager.default.fileExists(atPath: sock) })
        let mode = try FileManager.default.attributesOfItem(atPath: sock)[.posixPermissions] as? Int
        #expect(mode == 0o600, "mode \(String(mode ?? -1, radix: 8))")
    }

    /// A connection whose answer waits for gathering and that keeps sending must not keep the
    /// event loop busy (epoll is level-triggered); the answer goes out at --gather-wait.
    @Test func aPendingAnswerDoesNotSpinAndWaitsAtMostGatherWait() throws {
        // A STUN server that never answers: gathering cannot finish before --gather-wait.
        let (silent, stunPort) = bindLoopback(Int32(SOCK_DGRAM.rawValue))
        defer { close(silent) }
        let port = freeTCPPort()
        let server = try startHome(port, ["--stun", "127.0.0.1:\(stunPort)", "--gather-wait", "2000"])
        defer { server.stop() }
        let pid = server.process.processIdentifier
        let sdp = offerSDP()
        let fd = connectTCP(port)
        defer { close(fd) }
        // The request, and once it is in, more bytes that nobody will read: the connection
        // stays readable while the answer waits.
        let raw = "POST /whip HTTP/1.1\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n" + sdp
        let before = cpuTicks(pid)
        let start = Date()
        _ = Array(raw.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        usleep(200_000)
        _ = Array("trailing junk".utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let answer = readAll(fd)
        let waited = Date().timeIntervalSince(start)
        let ticks = cpuTicks(pid) - before
        #expect(answer.hasPrefix("HTTP/1.1 201"), "\(answer)")
        #expect(waited >= 1.8 && waited < 3.5, "answered after \(waited) s")
        // A spinning loop burns most of the remaining 1.8 s (up to 180 ticks at 100 Hz); an idle one
        // almost nothing.
        #expect(ticks < 40, "\(ticks) ticks of CPU while the answer waited")
    }

    // MARK: Media ownership

    /// The media ports belong to the connected call: never to an offer answered 400, released
    /// when a call ends by DELETE or by its peer vanishing (consent lost, RFC 7675), then
    /// taken by the next call. A second offer during a call gets 503 with Retry-After.
    @Test func mediaGoesToTheConnectedCallAndComesBackWhenItEnds() throws {
        let token = "media0123456789abcdefgh"
        let tokenFile = try tempFile(token)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let port = freeTCPPort(), speaker = freeUDPPort()
        let server = try startHome(port, ["--token-file", tokenFile, "--rtp-out", "127.0.0.1:\(speaker)"], seconds: 120)
        defer { server.stop() }
        let sink = UDPCounter(port: speaker)
        defer { sink.stop() }
        let url = "http://127.0.0.1:\(port)/whip"

        /// A doorbell with a camera feeding its --rtp-in.
        func doorbell(seconds: Int) throws -> (Background, Background) {
            let camera = freeUDPPort()
            let call = try Background(try iceAgentPath(), ["call", url, "--token-file", tokenFile, "--rtp-in", "127.0.0.1:\(camera)",
                                                           "--allow-loopback", "--interface", "lo", "--duration", "\(seconds)"])
            let source = try Background(try iceAgentPath(), ["rtp", "send", "--to", "127.0.0.1:\(camera)", "--seconds", "\(seconds)"])
            return (call, source)
        }

        #expect(post(port, "v=0\r\nnonsense\r\n", token: token).status == 400)

        // Call 1, ended by its DELETE.
        let (call1, source1) = try doorbell(seconds: 3)
        #expect(waitUntil(timeout: 10) { server.output.contains("session 1 has the media ports") }, "\(server.output)")
        #expect(waitUntil(timeout: 5) { sink.count > 10 }, "\(sink.count) packets\n\(server.output)")
        #expect(waitUntil(timeout: 10) { server.output.contains("session 1 deleted") }, "\(server.output)")
        call1.stop()
        source1.stop()

        // Call 2: connected, then its doorbell loses power (no DELETE).
        let (call2, source2) = try doorbell(seconds: 60)
        defer { call2.stop(); source2.stop() }
        #expect(waitUntil(timeout: 10) { server.output.contains("session 2 has the media ports") }, "\(server.output)")
        let before2 = sink.count
        #expect(waitUntil(timeout: 5) { sink.count > before2 + 10 }, "\(sink.count) packets\n\(server.output)")
        let busy = post(port, offerSDP(), token: token)
        #expect(busy.status == 503 && busy.header("retry-after") != nil, "\(busy.raw)")
        kill(call2.process.processIdentifier, SIGKILL)
        source2.stop()
        // RFC 7675 §5.1: consent expires 30 s after the last response.
        #expect(waitUntil(timeout: 45) { server.output.contains("session 2 ended (ICE failed)") }, "\(server.output)")

        // Call 3 gets the media ports.
        let (call3, source3) = try doorbell(seconds: 3)
        defer { call3.stop(); source3.stop() }
        #expect(waitUntil(timeout: 10) { server.output.contains("session 3 has the media ports") }, "\(server.output)")
        let before3 = sink.count
        #expect(waitUntil(timeout: 5) { sink.count > before3 + 10 }, "\(sink.count) packets\n\(server.output)")
        #expect(!server.output.contains("cannot bind media port"), "\(server.output)")
    }
}
