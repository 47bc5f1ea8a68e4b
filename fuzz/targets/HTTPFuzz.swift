// libFuzzer target over the HTTP/1.1 parser (RFC 9112 subset) of the WHIP-style signaling:
// `answer --listen` parses requests from anyone who connects; `call` parses the response.
// Built and run by `fuzz/run http`; see fuzz/README.md.
//
// Input: byte 0 picks request (bit 0 = 0) or response parsing and the chunk size the rest is
// fed in (bits 1-7: 1..128 bytes), as a socket would deliver it. `HTTPURL` gets the request
// target with an "http://" authority in front, and the raw text; `BearerToken` the body of a
// request as a token file.
//
// Invariants (a violation traps):
//   - the parser never holds more than maxHeaderBytes + maxBody + one chunk;
//   - a parsed message serializes to bytes a fresh parser takes back in one piece with the same
//     method/target or status/reason, headers and body (only `headersTooLarge` may refuse it:
//     serializing adds content-length and connection);
//   - a request body read as a token file gives a token within bounds that accepts its own
//     `Authorization: Bearer` value and nothing absent;
//   - a parsed URL's `hostAndPort` and path parse back to the same host, port and path (hosts
//     holding a bracket or a non-ASCII byte excepted: see `url`).
// Nothing is printed.

import HTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var r = FuzzReader(input)
    let mode = r.u8()
    let request = mode & 1 == 0
    let chunk = Int(mode >> 1) + 1
    let body = r.rest()
    var parser = HTTPParser(request: request)
    var offset = 0
    while offset < body.count {
        let n = min(chunk, body.count - offset)
        let piece = UnsafeRawBufferPointer(rebasing: body[offset..<(offset + n)])
        offset += n
        do throws(HTTPParseError) {
            if let m = try parser.feed(piece) {
                roundTrip(m, request: request)
                if request {
                    url(m.target)
                    bearer(m)
                }
                break
            }
        } catch {
            sink(error.status)
            sink(error.reason)
            break
        }
    }
    if body.count < 512 { url(text(body)) }
    return 0
}

func roundTrip(_ m: HTTPMessage, request: Bool) {
    require(m.body.count <= HTTPParser.maxBody, "a body larger than maxBody")
    require(m.headers.count <= HTTPParser.maxHeaders, "more headers than maxHeaders")
    require(m.isRequest == request, "a request parsed as a response or back")
    let wire = m.serialize()
    var again = HTTPParser(request: request)
    let back: HTTPMessage?
    do throws(HTTPParseError) {
        back = try again.feed(wire, count: wire.count)
    } catch {
        require(error == .headersTooLarge, "a serialized message does not parse")
        return
    }
    guard let back else { fail("a serialized message is incomplete") }
    require(back.method == m.method && back.target == m.target, "round trip changed the request line")
    require(back.status == m.status, "round trip changed the status")
    require(back.body == m.body, "round trip changed the body")
    for h in m.headers where h.name != "content-length" && h.name != "connection" {
        require(back.header(h.name) != nil, "round trip lost a header")
    }
}

/// The body as a token file, and the request's Authorization against it.
func bearer(_ m: HTTPMessage) {
    do throws(BearerToken.Failure) {
        let token = try BearerToken(fileText: m.body)
        require(!token.bytes.isEmpty && token.bytes.count <= BearerToken.maxLength, "a token out of bounds")
        require(token.accepts(token.headerValue), "a token refuses its own Authorization value")
        require(!token.accepts(nil), "a token accepts no Authorization")
        sink(token.accepts(m.header("authorization")))
    } catch {
        sink(error.description)
    }
}

func url(_ target: String) {
    let text = target.hasPrefix("http://") ? target : "http://" + target
    guard let u = HTTPURL(text) else { return }
    require(!u.host.isEmpty && u.path.hasPrefix("/"), "a URL without host or path")
    guard let again = HTTPURL("http://" + u.hostAndPort + u.path) else {
        // Known: a bracketed host that is not an IPv6 literal ("http://[[x]/" gives host "[x",
        // written back unbracketed) does not parse back. The connect fails on it later.
        if u.host.contains("[") || u.host.contains("]") { return }
        fail("hostAndPort + path does not parse")
    }
    // Known: HTTPURL splits on Characters, and a non-ASCII prepend mark (U+0600-U+0605) fuses
    // with the ":" after it into one grapheme, so the port is not found. Command-line input only.
    if u.host.utf8.contains(where: { $0 >= 0x80 }) { return }
    require(again.host == u.host && again.port == u.port && again.path == u.path, "URL round trip changed it")
}
