import HTTP
import Testing

@Suite struct HTTPTests {
    func parse(_ text: String, request: Bool = true, chunks: Int = 1) throws(HTTPParseError) -> HTTPMessage? {
        var p = HTTPParser(request: request)
        let bytes = Array(text.utf8)
        var result: HTTPMessage? = nil
        let size = max(1, bytes.count / chunks)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + size)
            let chunk = Array(bytes[i..<end])
            let r: Result<HTTPMessage?, HTTPParseError> = chunk.withUnsafeBytes { b in
                do throws(HTTPParseError) { return .success(try p.feed(b)) } catch { return .failure(error) }
            }
            result = try r.get()
            i = end
        }
        return result
    }

    @Test func parsesAWHIPOffer() throws {
        let sdp = "v=0\r\ns=-\r\n"
        let text = "POST /whip/doorbell HTTP/1.1\r\nHost: home\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n" + sdp
        for chunks in [1, 3, 17] {
            let m = try #require(try parse(text, chunks: chunks))
            #expect(m.method == "POST" && m.target == "/whip/doorbell")
            #expect(m.header("content-type") == "application/sdp" && m.header("HOST") == "home")
            #expect(String(decoding: m.body, as: UTF8.self) == sdp)
        }
        // Incomplete body: more needed.
        #expect(try parse(String(text.dropLast(3))) == nil)
    }

    @Test func refusesWhatItMust() {
        #expect(throws: HTTPParseError.badRequest) { try parse("NONSENSE\r\n\r\n") }
        #expect(throws: HTTPParseError.badRequest) { try parse("GET / HTTP/1.1\r\nBad Header\r\n\r\n") }
        #expect(throws: HTTPParseError.lengthRequired) { try parse("POST / HTTP/1.1\r\n\r\n") }
        #expect(throws: HTTPParseError.notImplemented) { try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") }
        #expect(throws: HTTPParseError.payloadTooLarge) { try parse("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n") }
        #expect(throws: HTTPParseError.headersTooLarge) { try parse("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000)) }
        #expect(throws: HTTPParseError.headersTooLarge) {
            try parse("GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 70) + "\r\n")
        }
    }

    @Test func responsesRoundTrip() throws {
        let r = HTTPMessage.response(201, "Created", headers: [("Location", "/session/1"), ("Content-Type", "application/sdp")],
                                     body: Array("v=0\r\n".utf8))
        let m = try #require(try parse(String(decoding: r.serialize(), as: UTF8.self), request: false))
        #expect(m.status == 201 && m.reason == "Created" && m.header("location") == "/session/1")
        #expect(m.body == Array("v=0\r\n".utf8))
    }

    @Test func urls() {
        let u = HTTPURL("http://192.0.2.1:8080/whip")
        #expect(u?.host == "192.0.2.1" && u?.port == 8080 && u?.path == "/whip")
        #expect(HTTPURL("http://home.local/")?.port == 80)
        #expect(HTTPURL("http://[2001:db8::1]:9/x")?.hostAndPort == "[2001:db8::1]:9")
        #expect(HTTPURL("https://x/") == nil)
        #expect(HTTPURL("http://:80/") == nil)
    }
}
