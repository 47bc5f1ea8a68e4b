import Foundation
import TestSupport
import Testing

/// `answer --listen` with TURN over TCP through coturn: what a session holds, it gives back.
@Suite(.serialized) struct SignalingResourceTests {
    /// Bad offers bind nothing, and a session that ends (DELETE, or never connecting) closes
    /// every descriptor it held, TURN over TCP included: the count returns to idle.
    @Test func descriptorsReturnToIdleAfterBadOffersAndEndedSessions() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let token = "fdtest0123456789abcdef"
        let tokenFile = try tempFile(token)
        let turnUser = try tempFile("test:secret\n")
        defer { for f in [tokenFile, turnUser] { try? FileManager.default.removeItem(atPath: f) } }
        let port = freeTCPPort()
        let server = try startHome(port, ["--token-file", tokenFile, "--setup-seconds", "2", "--gather-wait", "3000",
                                     "--turn", "turn:127.0.0.1:\(coturn.port)?transport=tcp", "--turn-user-file", turnUser])
        defer { server.stop() }
        let pid = server.process.processIdentifier
        usleep(300_000)
        let idle = openDescriptors(pid)
        #expect(idle > 0)

        #expect(post(port, offerSDP()).status == 401)
        #expect(post(port, "v=0\r\nnonsense\r\n", token: token).status == 400)
        #expect(post(port, offerSDP(pwd: "short"), token: token).status == 400)
        #expect(exchange(port, "POST /whip HTTP/1.1\r\nAuthorization: Bearer \(token)\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx").status == 415)
        #expect(exchange(port, "GARBAGE\r\n\r\n").status == 400)
        #expect(waitUntil { openDescriptors(pid) == idle }, "\(openDescriptors(pid)) open, \(idle) idle")

        // The answer waits for the relayed candidate, and goes out as soon as gathering is done
        // rather than at --gather-wait; then DELETE frees it all.
        let asked = Date()
        let created = post(port, offerSDP(), token: token)
        #expect(Date().timeIntervalSince(asked) < 2, "answered after \(Date().timeIntervalSince(asked)) s")
        #expect(created.status == 201 && created.body.contains("typ relay"), "\(created.raw)\n\(server.output)")
        #expect(openDescriptors(pid) > idle)
        let location = try #require(created.header("location"))
        #expect(delete(port, location, token: token).status == 200)
        #expect(waitUntil { openDescriptors(pid) == idle }, "\(openDescriptors(pid)) open, \(idle) idle")

        // A session that never connects ends by itself, and releases the same.
        #expect(post(port, offerSDP(), token: token).status == 201)
        #expect(waitUntil(timeout: 6) { server.output.contains("session 2 ended (ICE did not connect within 2 s)") }, "\(server.output)")
        #expect(waitUntil { openDescriptors(pid) == idle }, "\(openDescriptors(pid)) open, \(idle) idle")
        // Both TURN allocations were released (TCP: the connection closed, or Refresh LIFETIME 0).
        #expect(waitUntil(timeout: 5) { coturn.log.components(separatedBy: "lifetime=0").count - 1 >= 2 },
                "\(coturn.log.suffix(3000))")
    }

}
