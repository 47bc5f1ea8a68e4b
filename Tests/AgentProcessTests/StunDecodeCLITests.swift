import Foundation
import STUNTestVectors
import TestSupport
import Testing

/// `ice-agent stun decode`, checked from outside as users and other tools see it.
@Suite struct StunDecodeCLITests {
    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    func decode(_ lines: [String], _ options: [String] = []) throws -> [[String: Any]] {
        let r = try run(try iceAgentPath(), ["stun", "decode"] + options, stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "stderr: \(r.stderr)")
        return try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func vectorsWithShortTermPassword() throws {
        let out = try decode([hex(Vectors.rfc5769Request), hex(Vectors.rfc5769IPv6Response)],
                             ["--password", Vectors.rfc5769ShortTermPassword])
        #expect(out.count == 2)
        #expect(out[0]["class"] as? String == "request")
        #expect(out[0]["method"] as? String == "binding")
        #expect(out[0]["transaction"] as? String == "b7e7a701bc34d686fa87dfae")
        #expect(out[0]["integrity"] as? String == "ok")
        #expect(out[0]["integrity_sha256"] as? String == "absent")
        #expect(out[0]["fingerprint"] as? String == "ok")
        let attrs = try #require(out[0]["attributes"] as? [[String: Any]])
        #expect(attrs.map { $0["name"] as? String } == ["SOFTWARE", "PRIORITY", "ICE-CONTROLLED", "USERNAME",
                                                         "MESSAGE-INTEGRITY", "FINGERPRINT"])
        #expect(attrs[0]["type"] as? String == "0x8022")
        #expect(attrs[0]["value"] as? String == "STUN test client")
        #expect((attrs[1]["value"] as? NSNumber)?.uint32Value == 0x6E00_01FF)
        #expect(attrs[3]["value"] as? String == "evtj:h6vY")
        let v6 = try #require(out[1]["attributes"] as? [[String: Any]])
        #expect(v6[1]["value"] as? String == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(out[1]["class"] as? String == "success")
    }

    @Test func integrityStates() throws {
        let noKey = try decode([hex(Vectors.rfc5769Request)])
        #expect(noKey[0]["integrity"] as? String == "unchecked")
        let wrong = try decode([hex(Vectors.rfc5769Request)], ["--password", "nope"])
        #expect(wrong[0]["integrity"] as? String == "bad")
        var flipped = Vectors.rfc5769Request
        flipped[flipped.count - 1] ^= 1
        let badFP = try decode([hex(flipped)])
        #expect(badFP[0]["fingerprint"] as? String == "bad")
    }

    @Test func longTermMD5AndSHA256() throws {
        let cred = Vectors.rfc5769LongTermUsername + ":" + Vectors.rfc5769LongTermRealm + ":" + Vectors.rfc5769LongTermPassword
        let out = try decode([hex(Vectors.rfc5769LongTermRequest), hex(Vectors.rfc8489B1Corrected)], ["--long-term", cred])
        #expect(out[0]["integrity"] as? String == "ok")
        #expect(out[0]["fingerprint"] as? String == "absent")
        #expect(out[1]["integrity"] as? String == "absent")
        #expect(out[1]["integrity_sha256"] as? String == "ok")
        let attrs = try #require(out[0]["attributes"] as? [[String: Any]])
        #expect(attrs[0]["value"] as? String == Vectors.rfc5769LongTermUsername)
    }

    @Test func badLinesReportAndContinue() throws {
        let out = try decode(["zz", "0001", hex(Array(Vectors.rfc5769Request.dropLast(4))), "abc",
                              hex(Vectors.rfc5769IPv4Response)])
        #expect(out.count == 5)
        #expect(out[0]["error"] as? String == "bad-hex")
        #expect(out[1]["error"] as? String == "truncated-header")
        #expect(out[2]["error"] as? String == "length-beyond-data")
        #expect(out[3]["error"] as? String == "bad-hex")
        #expect(out[4]["class"] as? String == "success")
    }

    @Test func valueFormats() throws {
        // ERROR-CODE, flags, integers, TURN method names, unknown methods.
        // ERROR-CODE 401 "Test Reason", USE-CANDIDATE, REQUESTED-TRANSPORT 17, LIFETIME 600,
        // DONT-FRAGMENT in an Allocate error response.
        let msg = "0113002c2112a442000102030405060708090a0b0009000f000004015465737420526561736f6e00" +
            "002500000019000411000000000d000400000258001a0000"
        let out = try decode([msg, "3eef00002112a442000102030405060708090a0b"])
        #expect(out[0]["method"] as? String == "allocate")
        #expect(out[0]["class"] as? String == "error")
        let attrs = try #require(out[0]["attributes"] as? [[String: Any]])
        #expect(attrs[0]["value"] as? String == "401 Test Reason")
        #expect(attrs[1]["value"] as? Bool == true)
        #expect((attrs[2]["value"] as? NSNumber)?.intValue == 17)
        #expect((attrs[3]["value"] as? NSNumber)?.intValue == 600)
        #expect(attrs[4]["name"] as? String == "DONT-FRAGMENT")
        #expect(out[1]["method"] as? String == "0xfff")  // type 0x3EEF: method 0xFFF, request
        #expect(out[1]["class"] as? String == "request")
    }

    @Test func usageErrorsExitTwo() throws {
        let r = try run(try iceAgentPath(), ["stun", "decode", "--bogus"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown option"))
    }
}
