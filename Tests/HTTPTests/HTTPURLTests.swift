import HTTP
import Testing

@Suite struct HTTPURLTests {
    func parse(_ text: String) -> Result<HTTPURL, HTTPURLError> {
        do throws(HTTPURLError) { return .success(try HTTPURL(parsing: text)) } catch { return .failure(error) }
    }

    @Test(arguments: [
        ("http://192.0.2.1:8080/whip", "192.0.2.1", HTTPURL.HostKind.ipv4, UInt16(8080), "/whip"),
        ("http://home.example/whip/doorbell?x=1", "home.example", .name, 80, "/whip/doorbell?x=1"),
        ("http://home.local", "home.local", .name, 80, "/"),
        ("HTTP://Home-1.example.:65535/", "Home-1.example.", .name, 65535, "/"),
        ("http://localhost:1/", "localhost", .name, 1, "/"),
        ("http://[2001:db8::1]:9/x", "2001:db8::1", .ipv6, 9, "/x"),
        ("http://[::1]/whip", "::1", .ipv6, 80, "/whip"),
        ("http://[::ffff:192.0.2.1]:8080/", "::ffff:192.0.2.1", .ipv6, 8080, "/"),
        ("http://a.b_c~d.example:00443/p%20q", "a.b_c~d.example", .name, 443, "/p%20q"),
    ])
    func parsesGoodURLs(text: String, host: String, kind: HTTPURL.HostKind, port: UInt16, path: String) throws {
        let u = try parse(text).get()
        #expect(u.host == host && u.hostKind == kind && u.port == port && u.path == path)
        // The canonical form parses back to the same URL.
        #expect(HTTPURL(u.description) == u)
    }

    @Test(arguments: [
        ("https://home.example/whip", "home.example", UInt16(443), "/whip"),
        ("HTTPS://192.0.2.1:8443/", "192.0.2.1", 8443, "/"),
        ("https://[::1]/w", "::1", 443, "/w"),
        ("https://home.example:80/", "home.example", 80, "/"),
    ])
    func parsesHTTPSWithDefaultPort443(text: String, host: String, port: UInt16, path: String) throws {
        let u = try parse(text).get()
        #expect(u.secure && u.host == host && u.port == port && u.path == path)
        #expect(u.description.hasPrefix("https://"))
        #expect(HTTPURL(u.description) == u)
    }

    @Test func httpIsNotSecureAndSchemesDiffer() throws {
        let plain = try parse("http://home.example:443/whip").get()
        let tls = try parse("https://home.example/whip").get()
        #expect(!plain.secure && plain.port == 443)
        #expect(plain != tls && plain.hostAndPort == tls.hostAndPort)
        // The https parser checks the authority as strictly as http's.
        #expect(parse("https://home example/") == .failure(.badHostName))
        #expect(parse("https://x:0/") == .failure(.badPort))
        #expect(parse("https://2001:db8::1/") == .failure(.badIPv6Literal))
    }

    @Test func hostAndPortBracketsIPv6Only() {
        #expect(HTTPURL("http://[2001:db8::1]:9/x")?.hostAndPort == "[2001:db8::1]:9")
        #expect(HTTPURL("http://192.0.2.1/")?.hostAndPort == "192.0.2.1:80")
        #expect(HTTPURL("http://home.example:8080/")?.hostAndPort == "home.example:8080")
    }

    @Test(arguments: [
        ("httpx://x/", HTTPURLError.notHTTP),
        ("https:/x/", .notHTTP),
        ("https//x/", .notHTTP),
        ("http:/x/", .notHTTP),
        ("ftp://x/", .notHTTP),
        ("", .notHTTP),
        ("http://", .emptyHost),
        ("http:///whip", .emptyHost),
        ("http://:80/", .emptyHost),
        ("http://[]/", .emptyHost),
        // Nested or unbalanced brackets: "[x" is no IPv6 address (and wrote back unbracketed).
        ("http://[[x]/", .badIPv6Literal),
        ("http://[[::1]]/", .badIPv6Literal),
        ("http://[::1/", .badIPv6Literal),
        ("http://[::1]]/", .badIPv6Literal),
        ("http://[::1]x/", .badIPv6Literal),
        ("http://[::1]:/", .badPort),
        ("http://[192.0.2.1]/", .badIPv6Literal),
        ("http://[fe80::1%25eth0]/", .badIPv6Literal),
        ("http://[home.example]/", .badIPv6Literal),
        ("http://2001:db8::1/", .badIPv6Literal),
        ("http://::1/", .badIPv6Literal),
        ("http://192.0.2.256/", .badIPv4Address),
        ("http://192.0.2/", .badIPv4Address),
        ("http://01.2.3.4/", .badIPv4Address),
        ("http://user@home.example/", .badHostName),
        ("http://home..example/", .badHostName),
        ("http://.example/", .badHostName),
        ("http://ho me/", .badHostName),
        ("http://h%6Fme/", .badHostName),
        ("http://h\u{e9}me/", .badHostName),
        ("http://" + String(repeating: "a", count: 64) + ".example/", .badHostName),
        ("http://" + String(repeating: "a.", count: 127) + "ab/", .badHostName),
        ("http://home:0/", .badPort),
        ("http://home:65536/", .badPort),
        ("http://home:123456/", .badPort),
        ("http://home:-1/", .badPort),
        ("http://home:+80/", .badPort),
        ("http://home:8o/", .badPort),
        ("http://home:/", .badPort),
        ("http://home/a b", .badPath),
        ("http://home/a\r\nX-Injected: 1", .badPath),
        ("http://home/a#frag", .badPath),
        ("http://home/caf\u{e9}", .badPath),
    ])
    func refusesBadURLs(text: String, error: HTTPURLError) {
        #expect(parse(text) == .failure(error), "\(text)")
        #expect(HTTPURL(text) == nil)
    }

    /// U+0600-U+0605 are grapheme prepend marks: split on Characters, the mark and the ":" after
    /// it form one Character and the port was not found. Over the UTF-8 bytes, the mark is a
    /// byte no host name holds.
    @Test(arguments: ["\u{600}", "\u{601}", "\u{605}", "\u{6DD}", "\u{110BD}"])
    func prependMarkDoesNotHidePort(mark: String) {
        #expect(parse("http://home" + mark + ":8080/whip") == .failure(.badHostName))
        #expect(parse("http://[::1" + mark + "]:8080/") == .failure(.badIPv6Literal))
        #expect(parse("http://home:" + mark + "8080/") == .failure(.badPort))
        // The mark before "/" cannot hide the path's delimiter either.
        #expect(parse("http://home:8080" + mark + "/whip") == .failure(.badPort))
    }

    @Test func longestValidHostName() throws {
        let name = String(repeating: String(repeating: "a", count: 62) + ".", count: 4) + "a"
        #expect(name.utf8.count == 253)
        let u = try parse("http://" + name + ":8080/").get()
        #expect(u.host == name && u.hostKind == .name && u.port == 8080)
    }
}
