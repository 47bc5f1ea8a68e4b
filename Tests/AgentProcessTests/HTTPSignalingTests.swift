import Foundation
import TestSupport
import Testing

/// WHIP-style signaling over real TCP: a full call, and bad requests that must get a clear
/// status without hurting the server.
@Suite(.serialized) struct HTTPSignalingTests {
    /// Sends raw bytes to 127.0.0.1:port and returns everything the server answers.
    func exchange(_ port: UInt16, _ raw: [UInt8]) -> String {
        TestSupport.exchange(port, bytes: raw).raw
    }

    func startServer(_ port: UInt16, extra: [String] = []) throws -> Background {
        let s = try Background(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback", "--interface", "lo",
                                                      "--duration", "20"] + extra)
        #expect(waitUntil { s.output.contains("listening on http://") }, "\(s.output)")
        return s
    }

    @Test func callHomeOverHTTP() throws {
        let port = freeTCPPort()
        let server = try startServer(port)
        defer { server.stop() }
        let r = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                             "--duration", "2"], timeout: 15)
        #expect(r.status == 0, "\(r.stderr)\n\(server.output)")
        #expect(r.stderr.contains("doorbell: ICE completed"), "\(r.stderr)")
        #expect(waitUntil { server.output.contains("home: ICE completed") && server.output.contains("session 1 deleted") },
                "\(server.output)")
    }

    /// SIGUSR2 (the network changed) makes the doorbell restart ICE over HTTP as WHIP does
    /// (RFC 9725 §4.3.3: PATCH with If-Match: * and its new credentials); the home answers
    /// with its own, and both complete again.
    @Test func sigusr2RestartsICEOverHTTP() throws {
        let port = freeTCPPort()
        let server = try startServer(port)
        defer { server.stop() }
        let call = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                                       "--duration", "4"])
        defer { call.stop() }
        #expect(waitUntil { call.output.contains("doorbell: ICE completed") }, "\(call.output)")
        kill(call.process.processIdentifier, SIGUSR2)
        let completions = { (log: String, name: String) in log.components(separatedBy: "\(name): ICE completed").count - 1 }
        #expect(waitUntil { completions(call.output, "doorbell") == 2 && completions(server.output, "home") == 2 },
                "\(call.output)\n\(server.output)")
        #expect(call.output.contains("doorbell: ICE restart (ufrag"), "\(call.output)")
        #expect(server.output.contains("ICE restart"), "\(server.output)")
        #expect(!call.output.contains("ICE restart PATCH"), "the PATCH was answered: \(call.output)")
        call.process.waitUntilExit()
        #expect(call.process.terminationStatus == 0, "\(call.output)")
    }

    @Test func badRequestsGetClearStatusesAndTheServerSurvives() throws {
        let port = freeTCPPort()
        let server = try startServer(port)
        defer { server.stop() }
        func request(_ s: String) -> String { exchange(port, Array(s.utf8)) }
        #expect(request("GARBAGE\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        #expect(request("POST /whip HTTP/1.1\r\nContent-Type: application/sdp\r\n\r\n").hasPrefix("HTTP/1.1 411"))
        #expect(request("POST /whip HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi").hasPrefix("HTTP/1.1 415"))
        let badSDP = "v=0\r\nnonsense\r\n"
        let r400 = request("POST /whip HTTP/1.1\r\nContent-Type: application/sdp\r\nContent-Length: \(badSDP.utf8.count)\r\n\r\n" + badSDP)
        #expect(r400.hasPrefix("HTTP/1.1 400") && r400.contains("SDP line 2"), "\(r400)")
        #expect(request("POST /whip HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").hasPrefix("HTTP/1.1 413"))
        #expect(exchange(port, Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 10000) + "\r\n\r\n").utf8)).hasPrefix("HTTP/1.1 431"))
        #expect(request("DELETE /session/77 HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        #expect(request("PUT /session/1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        // Still serving: a real call completes after all that.
        let r = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                             "--duration", "1"], timeout: 15)
        #expect(r.status == 0, "\(r.stderr)\n\(server.output)")
    }

    /// A home that takes the connection but never answers: the call gives up after the 5 s
    /// request timeout with exit 1, and its event loop never blocks on the way.
    @Test func silentHomeFailsTheCallInTime() throws {
        let silent = SilentListener()  // the kernel completes the handshake; nobody ever reads or answers
        let port = silent.port
        let start = Date()
        let r = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--allow-loopback", "--interface", "lo",
                                             "--duration", "30"], timeout: 20)
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("offer not accepted") && r.stderr.contains("timed out"), "\(r.stderr)")
        #expect(elapsed >= 4.5 && elapsed < 10, "\(elapsed) s")
        withExtendedLifetime(silent) {}  // listening until the call has given up
    }
}
