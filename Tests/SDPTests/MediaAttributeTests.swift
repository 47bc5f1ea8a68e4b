import Common
import ICE
import SDP
import Testing

/// The WebRTC attributes of a description: fingerprint, setup, direction, BUNDLE, rtcp-fb,
/// and the limits on what a description can repeat.
@Suite struct MediaAttributeTests {
    static let fingerprint = "sha-256 3B:9C:55:A1:0E:7D:42:F6:18:C4:9B:2E:63:D7:A0:51:8F:E2:34:C9:06:7B:DA:11:5E:F3:84:29:C0:6A:B7:1D"

    @Test func readsChromiumOffer() throws {
        let d = try SessionDescription.parse(ChromiumFixture.offer)
        #expect(d.media.map(\.kind) == ["audio", "video", "application"])
        #expect(d.bundleGroups == [["0", "1", "2"]])
        #expect(d.media.map(\.direction) == [.sendrecv, .recvonly, .sendrecv])
        #expect(d.media[0].explicitDirection == .sendrecv && d.media[2].explicitDirection == nil)
        #expect(d.media.allSatisfy { $0.setup == .actpass && $0.fingerprints == [Self.fingerprint] })
        #expect(d.fingerprints.isEmpty && d.setup == nil && d.direction == nil)
        #expect(d.media[0].rtcpFeedback == ["111 transport-cc"])
        // 11 video payload types with 5 feedback lines each.
        #expect(d.media[1].rtcpFeedback.count == 55 && d.media[1].rtcpFeedback.contains("109 nack pli"))
        #expect(d.media[1].formats.count == 25 && d.media[1].rtpmaps.count == 25)
        #expect(RTPMap(d.media[0].rtpmaps[0][...]) == RTPMap(payloadType: 111, encoding: "opus", clockRate: 48000, channels: 2))
        let fmtp = FormatParameters(d.media[1].fmtps.first { $0.hasPrefix("109 ") }![...])
        #expect(fmtp?.parameter("profile-level-id") == "42e01f" && fmtp?.parameter("packetization-mode") == "1")
        #expect(fmtp?.parameter("sprop-parameter-sets") == nil)
    }

    @Test func sessionLevelValuesApplyUnlessTheSectionHasItsOwn() throws {
        let d = try SessionDescription.parse("""
            v=0
            s=-
            a=fingerprint:sha-256 AA:BB
            a=setup:passive
            a=recvonly
            m=audio 9 RTP/AVP 0
            m=video 9 RTP/AVP 96
            a=fingerprint:sha-1 CC:DD
            a=setup:active
            a=inactive

            """)
        #expect(d.fingerprints(media: 0) == ["sha-256 AA:BB"] && d.fingerprints(media: 1) == ["sha-1 CC:DD"])
        #expect(d.setup(media: 0) == .passive && d.setup(media: 1) == .active)
        #expect(d.direction(media: 0) == .recvonly && d.direction(media: 1) == .inactive)
        // A section without its own direction is sendrecv when read alone (RFC 8866 §6.7).
        #expect(d.media[0].direction == .sendrecv)
    }

    @Test func roundTripKeepsEveryNewAttribute() throws {
        var d = SessionDescription()
        d.bundleGroups = [["a", "b"]]
        d.fingerprints = ["sha-256 01:02"]
        d.setup = .passive
        d.direction = .sendonly
        var m = MediaDescription(kind: "video", port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["96"])
        m.mid = "a"
        m.fingerprints = [Self.fingerprint, "sha-512 AB:CD"]
        m.setup = .holdconn
        m.setup = .active
        m.direction = .recvonly
        m.direction = .inactive
        m.rtcpFeedback = ["96 nack", "96 nack pli", "* ccm fir"]
        m.rtpmaps = ["96 VP8/90000"]
        d.media = [m, MediaDescription(kind: "audio", port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["0"])]
        let back = try SessionDescription.parse(d.serialize())
        #expect(back.bundleGroups == [["a", "b"]] && back.fingerprints == ["sha-256 01:02"])
        #expect(back.setup == .passive && back.direction == .sendonly)
        let b = back.media[0]
        #expect(b.fingerprints == [Self.fingerprint, "sha-512 AB:CD"] && b.setup == .active)
        #expect(b.direction == .inactive && b.rtcpFeedback == ["96 nack", "96 nack pli", "* ccm fir"])
        // Setting a view replaces, never repeats: one setup and one direction line.
        #expect(b.otherAttributes.filter { $0.hasPrefix("setup:") }.count == 1)
        #expect(b.otherAttributes.filter { MediaDirection(rawValue: $0) != nil }.count == 1)
        #expect(back.direction(media: 1) == .sendonly && back.setup(media: 1) == .passive)
        var cleared = back
        cleared.bundleGroups = []
        cleared.media[0].setup = nil
        #expect(cleared.bundleGroups.isEmpty && cleared.media[0].setup == nil && !cleared.serialize().contains("a=group"))
    }

    @Test func malformedAttributesAreTypedErrorsNamingTheLine() {
        func parse(_ attribute: String) throws(SDPError) { _ = try SessionDescription.parse("v=0\nm=video 9 RTP/AVP 96\n" + attribute + "\n") }
        let cases: [(String, SDPError.Kind)] = [
            ("a=setup:client", .badSetup), ("a=setup:active\na=setup:passive", .badSetup),
            ("a=sendonly\na=recvonly", .badDirection),
            ("a=rtpmap:96", .badRtpmap), ("a=rtpmap:96 VP8", .badRtpmap), ("a=rtpmap:128 VP8/90000", .badRtpmap),
            ("a=rtpmap:96 VP8/0", .badRtpmap), ("a=rtpmap:x VP8/90000", .badRtpmap), ("a=rtpmap:96 opus/48000/0", .badRtpmap),
            ("a=rtpmap:96 VP8/90000/2/1", .badRtpmap), ("a=rtpmap:096 VP8/90000", .badRtpmap),
            ("a=mid:x\ry", .malformedLine),
            ("a=fmtp:96", .badFmtp), ("a=fmtp: x=1", .badFmtp),
            ("a=rtcp-fb:96", .badRtcpFeedback), ("a=rtcp-fb:300 nack", .badRtcpFeedback), ("a=rtcp-fb:x nack", .badRtcpFeedback),
            ("a=fingerprint:sha-256", .badFingerprint), ("a=fingerprint:sha-256 AB:CD:E", .badFingerprint),
            ("a=fingerprint:sha-256 AB;CD", .badFingerprint), ("a=fingerprint:sha-256 ZZ", .badFingerprint),
            ("a=group:", .badGroup),
        ]
        for (text, kind) in cases {
            let line = 3 + text.split(separator: "\n").count - 1
            #expect(throws: SDPError(kind, line: line), "\(text)") { try parse(text) }
        }
        // Session-level lines are checked too.
        #expect(throws: SDPError(.badSetup, line: 2)) { try SessionDescription.parse("v=0\na=setup:maybe\n") }
        #expect(throws: SDPError(.badDirection, line: 3)) { try SessionDescription.parse("v=0\na=sendonly\na=inactive\n") }
        // A direction or setup at session level does not count against the section's.
        #expect((try? SessionDescription.parse("v=0\na=sendonly\na=setup:active\nm=audio 9 RTP/AVP 0\na=recvonly\na=setup:passive\n")) != nil)
    }

    @Test func limitsBoundWhatADescriptionCanRepeat() {
        func expectTooLarge(_ text: String, line: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: SDPError(.tooLarge, line: line), sourceLocation: sourceLocation) { try SessionDescription.parse(text) }
        }
        let head = "v=0\nm=video 9 RTP/AVP 96\n"
        expectTooLarge("v=0\nm=video 9 RTP/AVP " + (0..<129).map { "\($0 % 128)" }.joined(separator: " ") + "\n", line: 2)
        expectTooLarge(head + String(repeating: "a=rtpmap:96 VP8/90000\n", count: 129), line: 131)
        expectTooLarge(head + String(repeating: "a=fmtp:96 x=1\n", count: 129), line: 131)
        expectTooLarge(head + String(repeating: "a=rtcp-fb:96 nack\n", count: 513), line: 515)
        expectTooLarge(head + String(repeating: "a=fingerprint:sha-256 AB\n", count: 9), line: 11)
        expectTooLarge("v=0\na=group:BUNDLE " + (0..<17).map { "\($0)" }.joined(separator: " ") + "\n", line: 2)
        expectTooLarge(head + "a=x:" + String(repeating: "y", count: 4093) + "\n", line: 3)
        // At the limits, it parses; the rtcp-fb count starts again in each section.
        let atLimit = head + String(repeating: "a=rtcp-fb:96 nack\n", count: 512) + "m=audio 9 RTP/AVP 0\n"
            + String(repeating: "a=rtcp-fb:0 nack\n", count: 512) + "a=x:" + String(repeating: "y", count: 4092) + "\n"
        #expect((try? SessionDescription.parse(atLimit))?.media.map(\.rtcpFeedback.count) == [512, 512])
    }

    @Test func directionsCombineFromBothSides() {
        #expect(MediaDirection.recvonly.reversed == .sendonly && MediaDirection.sendrecv.reversed == .sendrecv)
        #expect(MediaDirection.inactive.reversed == .inactive)
        #expect(MediaDirection(sends: true, receives: false) == .sendonly && MediaDirection(sends: false, receives: true) == .recvonly)
        #expect(MediaDirection.sendrecv.sends && MediaDirection.sendrecv.receives && !MediaDirection.inactive.sends)
    }
}
