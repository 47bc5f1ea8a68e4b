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
//   - a parsed URL is ASCII only (any byte >= 0x80 in the text refuses it), its host is an
//     IPv6 address (bracketed in `hostAndPort`), a dotted quad or a name without ":" or
//     brackets, its port is not 0 and its path starts with "/"; its canonical form
//     (`description`) parses back to the same URL, and `HTTPURL(_:)` agrees with
//     `HTTPURL(parsing:)`.
// Nothing is printed.

import Common
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
    let u: HTTPURL
    do throws(HTTPURLError) {
        u = try HTTPURL(parsing: text)
    } catch {
        require(HTTPURL(text) == nil, "HTTPURL(_:) accepts what HTTPURL(parsing:) refuses")
        sink(error.description)
        return
    }
    require(HTTPURL(text) == u, "HTTPURL(_:) and HTTPURL(parsing:) disagree")
    require(!text.utf8.contains(where: { $0 >= 0x80 }), "a URL with a non-ASCII byte")
    require(!u.host.isEmpty && u.port != 0 && u.path.hasPrefix("/"), "a URL without host, port or path")
    require(!u.host.utf8.contains(where: { $0 == 0x5B || $0 == 0x5D }), "a host holding a bracket")
    let ip = IPAddress(u.host)
    switch u.hostKind {
    case .ipv6:
        require(ip?.isIPv6 == true, "an IPv6 host that is not an IPv6 address")
        require(u.hostAndPort.hasPrefix("[" + u.host + "]:"), "an IPv6 host written without brackets")
    case .ipv4:
        require(ip?.isIPv4 == true, "an IPv4 host that is not a dotted quad")
    case .name:
        require(ip == nil && !u.host.utf8.contains(0x3A), "a host name that is an address or holds a colon")
    }
    guard let again = HTTPURL(u.description) else { fail("a URL's canonical form does not parse") }
    require(again == u, "URL round trip changed it")
}
