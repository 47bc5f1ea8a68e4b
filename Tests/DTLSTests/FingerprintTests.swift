import Foundation
import Testing
@testable import DTLS

@Suite struct FingerprintTests {
    static let text = "sha-256 " + (0..<32).map { n in
        let b = UInt8(n * 7 + 3)
        let d = Array("0123456789ABCDEF")
        return String([d[Int(b >> 4)], d[Int(b & 15)]])
    }.joined(separator: ":")

    @Test func roundTripsAndIgnoresCase() throws {
        let f = try Fingerprint(sdpValue: Self.text[...])
        #expect(f.bytes[0] == 3 && f.bytes[31] == UInt8(31 * 7 + 3))
        #expect(f.sdpValue == Self.text)
        let lower = try Fingerprint(sdpValue: ("SHA-256 " + Self.text.dropFirst(8).lowercased())[...])
        #expect(lower == f)
    }

    @Test func certificateHashIsSHA256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let f = Array("abc".utf8).withUnsafeBytes { Fingerprint(certificate: $0) }
        #expect(f.sdpValue == "sha-256 BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD")
    }

    @Test(arguments: [
        "sha-256", "sha-256 ", "sha-256 AB", String(Self.text.dropLast()), Self.text + ":00",
        Self.text.replacingOccurrences(of: ":", with: "-"), "sha-256 " + String(repeating: "ZZ:", count: 31) + "ZZ",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: FingerprintError.malformed) { try Fingerprint(sdpValue: text[...]) }
    }

    @Test func rejectsOtherHashes() {
        #expect(throws: FingerprintError.unsupportedHash) {
            try Fingerprint(sdpValue: ("sha-1 " + Self.text.dropFirst(8).prefix(59))[...])
        }
    }

    @Test func equalityComparesEveryByte() throws {
        let f = try Fingerprint(sdpValue: Self.text[...])
        for n in [0, 15, 31] {
            var g = f.bytes
            g[n] ^= 1
            #expect(Fingerprint(bytes: g) != f)
        }
    }
}
