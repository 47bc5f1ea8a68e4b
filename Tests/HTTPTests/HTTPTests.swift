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
}

/// A peer can split a request as finely as it likes: the parser's work must stay linear in
/// the bytes received (the old parser searched the whole buffer again on every read).
@Suite struct HTTPIncrementalParsingTests {
    func request(bodyBytes: Int, headerLines: Int) -> [UInt8] {
        let body = String(repeating: "a", count: bodyBytes)
        var head = "POST /whip HTTP/1.1\r\nContent-Type: application/sdp\r\nContent-Length: \(bodyBytes)\r\n"
        for i in 0..<headerLines { head += "X-Filler-\(i): " + String(repeating: "v", count: 40) + "\r\n" }
        return Array((head + "\r\n" + body).utf8)
    }

    func feedByteAtATime(_ bytes: [UInt8]) throws -> (HTTPMessage?, Int) {
        var p = HTTPParser(request: true)
        var result: HTTPMessage? = nil
        for b in bytes {
            let r: Result<HTTPMessage?, HTTPParseError> = [b].withUnsafeBytes { one in
                do throws(HTTPParseError) { return .success(try p.feed(one)) } catch { return .failure(error) }
            }
            if let m = try r.get() { result = m }
        }
        return (result, p.bytesScanned)
    }

    @Test func oneByteSegmentsCostLinearWork() throws {
        for (body, lines) in [(100, 10), (4000, 60), (60000, 60)] {
            let bytes = request(bodyBytes: body, headerLines: lines)
            let (m, scanned) = try feedByteAtATime(bytes)
            let message = try #require(m)
            #expect(message.body.count == body && message.header("x-filler-0") != nil)
            // Blank-line search + head parse + body: each byte about twice, never n²/2.
            #expect(scanned <= 2 * bytes.count + 8, "scanned \(scanned) for \(bytes.count) bytes")
        }
    }

    @Test func theHeadIsAvailableBeforeTheBody() throws {
        var p = HTTPParser(request: true)
        let head = Array("POST /whip HTTP/1.1\r\nAuthorization: Bearer x\r\nContent-Length: 10\r\n\r\nabc".utf8)
        let m = try head.withUnsafeBytes { b throws(HTTPParseError) in try p.feed(b) }
        #expect(m == nil)
        #expect(p.head?.header("authorization") == "Bearer x" && p.head?.method == "POST")
    }

    @Test func ambiguousFramingIsRefused() {
        func parse(_ s: String) throws(HTTPParseError) -> HTTPMessage? {
            var p = HTTPParser(request: true)
            return try p.feed(Array(s.utf8), count: s.utf8.count)
        }
        // RFC 9112 §6.3: two different lengths; a signed length; a NUL in a field value.
        #expect(throws: HTTPParseError.badRequest) { try parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") }
        #expect(throws: HTTPParseError.badRequest) { try parse("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na") }
        #expect(throws: HTTPParseError.badRequest) { try parse("GET / HTTP/1.1\r\nX: a\u{0}b\r\n\r\n") }
        #expect(throws: HTTPParseError.badRequest) { try parse("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n") }
        #expect(throws: HTTPParseError.badRequest) { try parse("GET / HTTP/2\r\n\r\n") }
    }

    @Test func aPipelinedSecondRequestIsNotKept() throws {
        var p = HTTPParser(request: true)
        let text = "PATCH /session/x HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /other HTTP/1.1\r\n\r\n"
        let m = try #require(try p.feed(Array(text.utf8), count: text.utf8.count))
        #expect(m.body == Array("ok".utf8))
    }
}

@Suite struct BearerTokenTests {
    func token(_ text: String) throws(BearerToken.Failure) -> BearerToken { try BearerToken(fileText: Array(text.utf8)) }

    @Test func acceptsOnlyTheExactTokenUnderTheBearerScheme() throws {
        let t = try token("s3cr3t-Token_0123456789~+/=\n")
        #expect(t.headerValue == "Bearer s3cr3t-Token_0123456789~+/=")
        #expect(t.accepts("Bearer s3cr3t-Token_0123456789~+/="))
        #expect(t.accepts("bearer s3cr3t-Token_0123456789~+/="))  // RFC 9110 §11.1: scheme is case-insensitive
        #expect(!t.accepts("Bearer s3cr3t-Token_0123456789~+/"))   // a prefix
        #expect(!t.accepts("Bearer s3cr3t-Token_0123456789~+/==")) // longer
        #expect(!t.accepts("Basic s3cr3t-Token_0123456789~+/="))
        #expect(!t.accepts("Bearer"))
        #expect(!t.accepts(nil))
    }

    @Test func tokenFilesThatAreNotTokensAreRefused() {
        #expect(throws: BearerToken.Failure.empty) { try token(" \n") }
        #expect(throws: BearerToken.Failure.badCharacter(3)) { try token("abc def") }
        #expect(throws: BearerToken.Failure.badCharacter(2)) { try token("a=b") }  // "=" is trailing padding only
        #expect(throws: BearerToken.Failure.tooLong) { try token(String(repeating: "a", count: 1025)) }
    }

    @Test func constantTimeEqualityIsEquality() {
        #expect(constantTimeEquals(Array("abc".utf8)[...], Array("abc".utf8)[...]))
        #expect(!constantTimeEquals(Array("abc".utf8)[...], Array("abd".utf8)[...]))
        #expect(!constantTimeEquals(Array("abc".utf8)[...], Array("ab".utf8)[...]))
        #expect(!constantTimeEquals(Array("".utf8)[...], Array("a".utf8)[...]))
    }
}
