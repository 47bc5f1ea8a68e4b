import Common
import Testing

@Suite struct AddressTests {
    @Test(arguments: [
        ("0.0.0.0", IPAddress.v4(0)), ("192.0.2.1", .v4(0xC000_0201)), ("255.255.255.255", .v4(0xFFFF_FFFF)),
        ("::", .v6(0, 0)), ("::1", .v6(0, 1)),
        ("2001:db8::1", .v6(0x2001_0DB8_0000_0000, 1)),
        ("2001:db8:1234:5678:11:2233:4455:6677", .v6(0x2001_0DB8_1234_5678, 0x0011_2233_4455_6677)),
        ("fe80::", .v6(0xFE80_0000_0000_0000, 0)),
        ("::ffff:192.0.2.1", .v6(0, 0x0000_FFFF_C000_0201)),
        ("2001:db8:0:0:1:0:0:1", .v6(0x2001_0DB8_0000_0000, 0x0001_0000_0000_0001)),
    ])
    func parses(text: String, expected: IPAddress) {
        #expect(IPAddress(text) == expected)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", ":", ":::",
                      "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::g", "1:", "[::1]"])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    /// RFC 5952 §4: the canonical text form.
    @Test(arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),       // first of equal runs
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),     // no :: for one group
        ("2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0"),          // longest run
        ("0:0:0:0:0:0:0:0", "::"), ("0:0:0:0:0:0:0:1", "::1"), ("1:0:0:0:0:0:0:0", "1::"),
        ("::ffff:c000:0201", "::ffff:192.0.2.1"),
    ])
    func canonicalText(input: String, canonical: String) throws {
        #expect(try #require(IPAddress(input)).description == canonical)
    }

    @Test func transportAddresses() {
        #expect(TransportAddress("192.0.2.1:3478") == TransportAddress(.v4(0xC000_0201), 3478))
        #expect(TransportAddress("[2001:db8::1]:443")?.description == "[2001:db8::1]:443")
        #expect(TransportAddress("192.0.2.1:65536") == nil)
        #expect(TransportAddress("192.0.2.1") == nil)
        #expect(TransportAddress("2001:db8::1:443") == nil)
        #expect(TransportAddress("[2001:db8::1]443") == nil)
    }

    @Test func classification() {
        #expect(IPAddress("127.1.2.3")!.isLoopback)
        #expect(IPAddress("::1")!.isLoopback)
        #expect(IPAddress("169.254.1.1")!.isLinkLocal)
        #expect(IPAddress("fe80::1")!.isLinkLocal)
        #expect(!IPAddress("fec0::1")!.isLinkLocal)
    }

    @Test func hex() {
        #expect(decodeHex(UnsafeRawBufferPointer(start: nil, count: 0)) == [])
        let t: StaticString = "00 01 aB ff"
        #expect(decodeHex(UnsafeRawBufferPointer(start: t.utf8Start, count: t.utf8CodeUnitCount)) == [0, 1, 0xAB, 0xFF])
        let odd: StaticString = "abc"
        #expect(decodeHex(UnsafeRawBufferPointer(start: odd.utf8Start, count: odd.utf8CodeUnitCount)) == nil)
        #expect(hexUInt16(0x0020) == "0x0020")
        #expect([UInt8(0xde), 0xad].withUnsafeBytes { hexString($0) } == "dead")
    }
}
