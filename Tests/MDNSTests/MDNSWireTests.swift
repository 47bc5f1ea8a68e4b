import Common
import Testing

@testable import MDNS

/// Messages written out by hand from RFC 1035 §4.1 and RFC 6762 §18, byte by byte.
struct MDNSWireTests {
    static let abcd: [UInt8] = [4, 0x61, 0x62, 0x63, 0x64, 5, 0x6C, 0x6F, 0x63, 0x61, 0x6C, 0]

    @Test func namesAreLowercasedWireForm() throws {
        #expect(try MDNSName("ABCD.Local").wire == Self.abcd)
        #expect(try MDNSName("abcd.local.").wire == Self.abcd)
        #expect(try MDNSName("9b36eaac-bb2e-49bb-bb78-21c41c499900.local").description == "9b36eaac-bb2e-49bb-bb78-21c41c499900.local")
        for bad in ["", ".", "local", "abcd.com", "a..local", ".local", "a b.local", "a.local..", "é.local",
                    String(repeating: "a", count: 64) + ".local",
                    Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".") + ".local"] {
            #expect(throws: MDNSError.badName) { try MDNSName(bad) }
        }
        // 63-byte labels up to the 255-byte limit are fine.
        let labels = Array(repeating: String(repeating: "b", count: 63), count: 3).joined(separator: ".")
        #expect(try MDNSName(labels + "." + String(repeating: "c", count: 55) + ".local").wire.count == 255)
        #expect(throws: MDNSError.badName) { try MDNSName(labels + "." + String(repeating: "c", count: 56) + ".local") }
    }

    @Test func oneShotQueryKnownAnswer() throws {
        let q = MDNSQuery.build(name: try MDNSName("abcd.local"), types: [.a, .aaaa], id: 0x1234)
        let expected: [UInt8] = [
            0x12, 0x34,  // ID
            0x00, 0x00,  // QR=0 opcode=0 AA=0 TC=0 RD=0 RA=0 Z=0 RCODE=0 (RFC 6762 §18.2-18.11)
            0x00, 0x02,  // QDCOUNT
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ANCOUNT NSCOUNT ARCOUNT
            4, 0x61, 0x62, 0x63, 0x64, 5, 0x6C, 0x6F, 0x63, 0x61, 0x6C, 0,  // abcd.local
            0x00, 0x01,  // QTYPE A
            0x80, 0x01,  // QU bit | QCLASS IN (RFC 6762 §18.12)
            0xC0, 0x0C,  // pointer to the name at offset 12 (RFC 1035 §4.1.4)
            0x00, 0x1C,  // QTYPE AAAA
            0x80, 0x01,
        ]
        #expect(q == expected)
        let single = MDNSQuery.build(name: try MDNSName("abcd.local"), types: [.aaaa], id: 0)
        #expect(single == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] + Self.abcd + [0x00, 0x1C, 0x80, 0x01])
    }

    /// A legacy unicast answer (RFC 6762 §6.7): the question repeated, then an A and an AAAA
    /// record whose names point at it, with the cache-flush bit.
    static let answer: [UInt8] = [
        0x12, 0x34, 0x84, 0x00,  // ID, QR=1 AA=1
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        4, 0x41, 0x42, 0x43, 0x44, 5, 0x6C, 0x6F, 0x63, 0x61, 0x6C, 0,  // ABCD.local (case differs)
        0x00, 0x01, 0x00, 0x01,
        0xC0, 0x0C, 0x00, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 192, 168, 1, 23,  // A, TTL 120
        0xC0, 0x0C, 0x00, 0x1C, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10,
        0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // AAAA fe80::1
    ]

    @Test func responseWithCompressionGivesTheAddresses() throws {
        let r = try Self.response(Self.answer).get()
        #expect(r.id == 0x1234)
        #expect(r.records.map(\.ttl) == [120, 120])
        #expect(r.addresses(for: try MDNSName("abcd.local")) == [IPAddress("192.168.1.23")!, IPAddress("fe80::1")!])
        #expect(r.addresses(for: try MDNSName("abce.local")).isEmpty)
    }

    @Test func multipleRecordsTTLZeroAndOtherTypes() throws {
        var m: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 5, 0, 0, 0, 0]
        m += Self.abcd + [0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1]                   // A 10.0.0.1
        m += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 2]                      // A 10.0.0.2
        m += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 3]                       // TTL 0: goodbye
        m += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 10, 0, 3, 2, 0x68, 0x69]                   // TXT: skipped
        m += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1]                      // duplicate
        let r = try Self.response(m).get()
        #expect(r.records.count == 4)
        #expect(r.addresses(for: try MDNSName("abcd.local")) == [IPAddress("10.0.0.1")!, IPAddress("10.0.0.2")!])
    }

    static func response(_ m: [UInt8]) -> Result<MDNSResponse, MDNSError> {
        m.withUnsafeBytes { b in
            do throws(MDNSError) { return .success(try MDNSResponse(parsing: b)) } catch { return .failure(error) }
        }
    }

    static func parse(_ m: [UInt8]) -> MDNSError? {
        if case .failure(let e) = response(m) { return e }
        return nil
    }

    @Test func compressionLoopsAndForwardPointersAreRefused() {
        let header: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        // A name that points at itself.
        #expect(Self.parse(header + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]) == .badPointer)
        // A label, then a pointer back to that label: a loop through a label.
        #expect(Self.parse(header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]) == .badPointer)
        // A forward pointer.
        #expect(Self.parse(header + [0xC0, 14, 0, 0xC0, 12]) == .badPointer)
        // Two names pointing at each other: the second's pointer target is not before the first's.
        let twoWay: [UInt8] = [0, 0, 0x84, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1]
        #expect(Self.parse(twoWay) == .badPointer)
        // Reserved label types 01 and 10.
        #expect(Self.parse(header + [0x41, 0]) == .badLabel)
        #expect(Self.parse(header + [0x81, 0]) == .badLabel)
    }

    @Test func namesLongerThan255BytesAreRefused() {
        // Questions of 63-byte labels, each pointing back at the one before: the fifth
        // expands to 5 * 64 + 1 bytes.
        var m: [UInt8] = [0, 0, 0x84, 0, 0, 5, 0, 0, 0, 0, 0, 0]
        var previous = -1
        for _ in 0..<5 {
            let start = m.count
            m.append(63)
            m += [UInt8](repeating: 0x61, count: 63)
            if previous < 0 { m.append(0) } else { m += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)] }
            m += [0, 1, 0, 1]
            previous = start
        }
        #expect(Self.parse(m) == .nameTooLong)
    }

    @Test func malformedHeadersAndRecordsHaveTypedErrors() {
        #expect(Self.parse([0, 0, 0x84]) == .truncated)
        #expect(Self.parse([0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == .notAResponse)          // QR=0
        #expect(Self.parse([0, 0, 0x8C, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == .notAResponse)          // opcode 1
        #expect(Self.parse([0, 0, 0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0]) == .errorResponse(3))   // NXDOMAIN
        #expect(Self.parse([0, 0, 0x84, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0]) == .tooManyRecords)  // 257 answers
        #expect(Self.parse([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0] + Self.abcd + [0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3]) == .badAddressLength)
        // An RDLENGTH past the end.
        #expect(Self.parse([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0] + Self.abcd + [0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1, 2, 3, 4]) == .truncated)
    }

    @Test func everyTruncationOfAnAnswerIsATypedError() {
        for n in 0..<Self.answer.count {
            #expect(Self.parse(Array(Self.answer.prefix(n))) != nil, "prefix \(n)")
        }
        #expect(Self.parse(Self.answer) == nil)
    }

    @Test func garbageNeverTraps() {
        var random = SeededRandom(seed: 7)
        var parsed = 0
        for _ in 0..<20_000 {
            let n = Int(random.next() % 80)
            var m = (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Mostly responses with a record or two, to reach the records.
            if m.count >= 12 { m.replaceSubrange(2..<12, with: [0x84, 0, 0, 0, 0, UInt8(n % 3), 0, 0, 0, 0]) }
            if Self.parse(m) == nil { parsed += 1 }
        }
        #expect(parsed > 0)  // some random messages do parse: the loop reached the records
    }
}
