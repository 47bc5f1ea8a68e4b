import Common
import Foundation
import ICE
import SDP
import Testing

/// Offer/answer as a browser needs it (RFC 8829, RFC 8843, RFC 8842): the answer to
/// Chromium's offer, our offer and the reading of its answer, and every refusal.
@Suite struct NegotiationTests {
    static let ours = "sha-256 " + (0..<32).map { n in
        let digits = Array("0123456789ABCDEF")
        return String([digits[(n * 7) % 16], digits[(n * 3 + 1) % 16]])
    }.joined(separator: ":")
    static let theirs = MediaAttributeTests.fingerprint

    static let host = Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("1"),
                                address: TransportAddress("192.0.2.7:40000")!)
    static let srflx = Candidate(type: .serverReflexive, component: 1, priority: 1_694_498_815, foundation: Foundation("2"),
                                 address: TransportAddress("198.51.100.4:40001")!, relatedAddress: TransportAddress("192.0.2.7:40000")!)

    static func transport(_ security: MediaSecurity = .dtlsSrtp, setup: DTLSSetup = .active) -> LocalTransport {
        LocalTransport(security: security, fingerprint: security == .dtlsSrtp ? ours : nil, setup: setup,
                       iceUfrag: "Ab3d", icePwd: "0123456789abcdefghijklmn", candidates: [srflx, host])
    }

    static let camera = LocalTrack(codec: .h264Default, direction: .sendonly, payloadType: 96, ssrc: 0x1234_5678)
    static let vp8Camera = LocalTrack(codec: .vp8, direction: .sendonly, payloadType: 100)
    static let intercom = LocalTrack(codec: .opus, direction: .sendrecv, payloadType: 111)

    static func chromium() throws -> SessionDescription { try SessionDescription.parse(ChromiumFixture.offer) }

    @Test func answersChromiumOfferWithH264() throws {
        let (answer, media) = try Negotiation.answer(to: try Self.chromium(), plan: MediaPlan(tracks: [Self.camera]),
                                                     transport: Self.transport())
        let text = answer.serialize()
        let d = try SessionDescription.parse(text)
        // One section per offered one, in order, with its mid; audio and data rejected with port 0.
        #expect(d.media.map(\.kind) == ["audio", "video", "application"] && d.media.map(\.mid) == ["0", "1", "2"])
        #expect(d.media.map(\.port) == [0, 40000, 0])
        #expect(d.media[0].proto == "UDP/TLS/RTP/SAVPF" && d.media[0].formats == ["111", "63", "9", "0", "8", "13", "110", "126"])
        #expect(d.media[2].proto == "UDP/DTLS/SCTP" && d.media[2].formats == ["webrtc-datachannel"])
        let v = d.media[1]
        // The offer's payload type for H264 packetization-mode=1 profile 42e01f (109), not
        // 107 (the same profile in mode 0) nor 103 (Baseline 42001f).
        #expect(v.proto == "UDP/TLS/RTP/SAVPF" && v.formats == ["109"] && v.rtpmaps == ["109 H264/90000"])
        #expect(v.fmtps == ["109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"])
        #expect(v.rtcpFeedback == ["109 ccm fir", "109 nack", "109 nack pli"])
        #expect(!text.contains("rtx") && !text.contains("goog-remb") && !text.contains("transport-cc"))
        #expect(v.direction == .sendonly && v.explicitDirection == .sendonly && v.rtcpMux)
        #expect(v.setup == .active && v.fingerprints == [Self.ours])
        #expect(v.connectionAddress == IPAddress("192.0.2.7") && v.candidates.map(\.address) == [Self.srflx.address, Self.host.address])
        #expect(v.otherAttributes.contains("ssrc:305419896 cname:ice-agent") && v.otherAttributes.contains { $0.hasPrefix("msid:") })
        #expect(d.bundleGroups == [["1"]])
        #expect(d.credentials(media: 1)! == ("Ab3d", "0123456789abcdefghijklmn"))
        #expect(d.media[0].fingerprints.isEmpty && d.media[0].setup == nil && d.media[0].candidates.isEmpty)

        #expect(media.tracks == [NegotiatedTrack(track: 0, mediaIndex: 1, mid: "1", kind: .video, codec: .h264Default,
                                                 payloadType: 109, localPayloadType: 96, direction: .sendonly,
                                                 rtcpFeedback: ["ccm fir", "nack", "nack pli"])])
        #expect(media.remoteFingerprint == Self.theirs && media.remoteSetup == .actpass && media.dtlsRole == .client)
        #expect(media.bundle == ["1"] && media.security == .dtlsSrtp)
        // The browser's transport is the accepted video section's, not the rejected audio one's.
        #expect(media.transportMediaIndex == 1 && media.transportMid == "1")
    }

    @Test func answersTheOfferChromium156Wrote() throws {
        // Chromium 156 accepted this answer, made with other candidates and certificate
        // (setRemoteDescription, headless), and fired ontrack with one stream each (a=msid).
        let offer = try SessionDescription.parse(ChromiumFixture.captured156Offer)
        let (answer, media) = try Negotiation.answer(to: offer, plan: MediaPlan(tracks: [Self.camera, Self.intercom]),
                                                     transport: Self.transport())
        let d = try SessionDescription.parse(answer.serialize())
        #expect(d.media.map(\.port) == [40000, 40000, 0] && d.bundleGroups == [["0", "1"]])
        #expect(d.media[1].formats == ["108"] && d.media[1].direction == .sendonly && d.media[0].direction == .sendrecv)
        #expect(d.media[2].kind == "application" && d.media[2].mid == "2")
        #expect(media.tracks.map(\.payloadType) == [111, 108] && media.dtlsRole == .client)
        #expect(media.remoteFingerprint?.hasPrefix("sha-256 C3:3D:4A:9E:") == true)
    }

    @Test func readsChromium156AnswerToOurOffer() throws {
        let plan = MediaPlan(tracks: [Self.camera, Self.intercom])
        let media = try Negotiation.read(answer: try SessionDescription.parse(ChromiumFixture.captured156Answer), plan: plan,
                                         security: .dtlsSrtp)
        // A page without tracks receives only: both of ours are sendonly on the wire.
        #expect(media.tracks.map(\.payloadType) == [96, 111] && media.tracks.map(\.direction) == [.sendonly, .sendonly])
        #expect(media.track(0)?.rtcpFeedback == ["ccm fir", "nack", "nack pli"] && media.track(1)?.mid == "1")
        // Chromium answers actpass with active: it is the DTLS client, we the server.
        #expect(media.remoteSetup == .active && media.dtlsRole == .server && media.bundle == ["0", "1"])
        #expect(media.remoteFingerprint == "sha-256 1E:A4:1C:6A:85:AE:24:5C:76:3F:7B:87:06:1A:2E:3D:EB:D6:9A:5C:B7:81:F6:FA:C0:20:80:DC:46:C6:AB:E5")
    }

    @Test func answersWithVP8WhenThePlanSaysSo() throws {
        let (answer, media) = try Negotiation.answer(to: try Self.chromium(), plan: MediaPlan(tracks: [Self.vp8Camera]),
                                                     transport: Self.transport())
        #expect(answer.media[1].formats == ["96"] && answer.media[1].rtpmaps == ["96 VP8/90000"] && answer.media[1].fmtps.isEmpty)
        #expect(media.tracks.map(\.payloadType) == [96] && media.tracks.map(\.localPayloadType) == [100])
    }

    @Test func acceptsIntercomAudioWhenPlanned() throws {
        let plan = MediaPlan(tracks: [Self.camera, Self.intercom])
        let (answer, media) = try Negotiation.answer(to: try Self.chromium(), plan: plan, transport: Self.transport(setup: .passive))
        #expect(answer.media.map(\.port) == [40000, 40000, 0] && answer.bundleGroups == [["0", "1"]])
        #expect(answer.media[0].formats == ["111"] && answer.media[0].rtpmaps == ["111 opus/48000/2"])
        #expect(answer.media[0].direction == .sendrecv && answer.media[0].rtcpFeedback.isEmpty)
        // Candidates go in the first accepted section only (the BUNDLE tag).
        #expect(answer.media[0].candidates.count == 2 && answer.media[1].candidates.isEmpty)
        #expect(answer.media.prefix(2).allSatisfy { $0.setup == .passive })
        #expect(media.tracks.map(\.track) == [1, 0] && media.tracks.map(\.mid) == ["0", "1"] && media.dtlsRole == .server)
        #expect(media.transportMediaIndex == 0 && media.transportMid == "0")
        // PCMU at its static payload type, with or without an rtpmap (RFC 3551 §6).
        let pcmu = MediaPlan(tracks: [LocalTrack(codec: .pcmu, direction: .sendrecv, payloadType: 101)])
        let (_, g711) = try Negotiation.answer(to: try Self.chromium(), plan: pcmu, transport: Self.transport())
        #expect(g711.tracks.map(\.payloadType) == [0] && g711.tracks.map(\.localPayloadType) == [101])
        let bare = try SessionDescription.parse(Self.offer(audio: "m=audio 9 UDP/TLS/RTP/SAVPF 0"))
        #expect(try Negotiation.answer(to: bare, plan: pcmu, transport: Self.transport()).media.tracks.map(\.payloadType) == [0])
    }

    /// A one-section offer around `audio`/`video` lines, DTLS unless told otherwise.
    static func offer(audio: String? = nil, video: [String] = [], proto: String = "UDP/TLS/RTP/SAVPF",
                      direction: String = "recvonly", extra: String = "a=fingerprint:\(theirs)\na=setup:actpass\n",
                      bundle: Bool = true) -> String {
        var s = "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n" + (bundle ? "a=group:BUNDLE 0\n" : "")
        s += "a=ice-ufrag:Kq7v\na=ice-pwd:x2Q9bVn6sGd3L0pYh8TzRw4M\n"
        if let audio {
            s += audio + "\na=mid:0\na=rtcp-mux\n" + extra + "a=\(direction)\n"
        } else {
            s += "m=video 9 \(proto) " + video.map { String($0.prefix { $0 != " " }) }.joined(separator: " ") + "\n"
            s += "a=mid:0\na=rtcp-mux\n" + extra + "a=\(direction)\n"
            for v in video {
                let pt = v.prefix { $0 != " " }
                s += "a=rtpmap:\(pt) H264/90000\n"
                if v.contains(" ") { s += "a=fmtp:\(v)\n" }
            }
        }
        return s
    }

    static let h264 = ["102 packetization-mode=1;profile-level-id=42e01f"]

    @Test func directionIsTheIntersection() throws {
        let cases: [(offered: String, local: MediaDirection, answered: MediaDirection)] = [
            ("recvonly", .sendonly, .sendonly), ("recvonly", .sendrecv, .sendonly), ("sendrecv", .sendonly, .sendonly),
            ("sendonly", .sendrecv, .recvonly), ("sendonly", .sendonly, .inactive), ("inactive", .sendrecv, .inactive),
            ("sendrecv", .recvonly, .recvonly),
        ]
        for c in cases {
            let offer = try SessionDescription.parse(Self.offer(video: Self.h264, direction: c.offered))
            let plan = MediaPlan(tracks: [LocalTrack(codec: .h264Default, direction: c.local, payloadType: 96)])
            let (answer, media) = try Negotiation.answer(to: offer, plan: plan, transport: Self.transport())
            #expect(answer.media[0].direction == c.answered && media.tracks.first?.direction == c.answered, "\(c)")
            #expect(answer.media[0].port != 0, "an inactive match is still accepted")
        }
    }

    @Test func h264NeedsPacketizationMode1AndTheSameProfile() throws {
        let plan = MediaPlan(tracks: [Self.camera])
        func payloadType(_ formats: [String], direction: String = "recvonly") throws(SDPError) -> UInt8? {
            let offer = try SessionDescription.parse(Self.offer(video: formats, direction: direction))
            return try Negotiation.answer(to: offer, plan: plan, transport: Self.transport()).media.tracks.first?.payloadType
        }
        let none = SDPError(.noAcceptableMedia, line: 0)
        #expect(throws: none) { try payloadType(["107 packetization-mode=0;profile-level-id=42e01f"]) }
        #expect(throws: none) { try payloadType(["107 profile-level-id=42e01f"]) }  // mode 0 by default (RFC 6184 §8.1)
        #expect(throws: none) { try payloadType(["115 packetization-mode=1;profile-level-id=4d001f"]) }
        #expect(throws: none) { try payloadType(["103 packetization-mode=1;profile-level-id=42001f"]) }
        #expect(throws: none) { try payloadType(["103 packetization-mode=1"]) }  // 42000a by default
        #expect(throws: none) { try payloadType(["103 packetization-mode=1;profile-level-id=zz"]) }
        // A receiver limited below our level cannot take our stream; one that only sends can.
        #expect(throws: none) { try payloadType(["108 packetization-mode=1;profile-level-id=42e00d"]) }
        #expect(try payloadType(["108 packetization-mode=1;profile-level-id=42e00d"], direction: "sendonly") == 108)
        #expect(try payloadType(["108 packetization-mode=1;profile-level-id=42E028", "102 packetization-mode=1;profile-level-id=42e01f"]) == 108)
        // The answered level is never above the offered one (RFC 6184 §8.2.2).
        let offer = try SessionDescription.parse(Self.offer(video: ["108 packetization-mode=1;profile-level-id=42e00d"], direction: "sendonly"))
        let (answer, _) = try Negotiation.answer(to: offer, plan: MediaPlan(tracks: [LocalTrack(codec: .h264Default, direction: .sendrecv, payloadType: 96)]),
                                                 transport: Self.transport())
        #expect(answer.media[0].fmtps == ["108 packetization-mode=1;profile-level-id=42e00d"])
    }

    @Test func legacyPlainRTPOfferNeedsSecurityOff() throws {
        let legacy = try SessionDescription.parse(Self.offer(video: Self.h264, proto: "RTP/AVP", extra: "", bundle: false))
        let plan = MediaPlan(tracks: [Self.camera])
        #expect(throws: SDPError(.insecureOffer, line: 0)) { try Negotiation.answer(to: legacy, plan: plan, transport: Self.transport()) }
        let (answer, media) = try Negotiation.answer(to: legacy, plan: plan, transport: Self.transport(.none))
        #expect(answer.media[0].proto == "RTP/AVP" && answer.media[0].formats == ["102"])
        #expect(answer.media[0].fingerprints.isEmpty && answer.media[0].setup == nil && answer.bundleGroups.isEmpty)
        #expect(media.dtlsRole == nil && media.remoteFingerprint == nil && media.tracks.count == 1 && media.bundle.isEmpty)
        // A DTLS offer cannot be answered with encryption off.
        let secure = try SessionDescription.parse(Self.offer(video: Self.h264))
        #expect(throws: SDPError(.encryptionUnavailable, line: 0)) { try Negotiation.answer(to: secure, plan: plan, transport: Self.transport(.none)) }
    }

    @Test func dtlsOfferChecks() throws {
        let plan = MediaPlan(tracks: [Self.camera])
        func answer(_ extra: String, proto: String = "UDP/TLS/RTP/SAVPF") throws(SDPError) -> NegotiatedMedia {
            try Negotiation.answer(to: try SessionDescription.parse(Self.offer(video: Self.h264, proto: proto, extra: extra)),
                                   plan: plan, transport: Self.transport()).media
        }
        #expect(throws: SDPError(.missingFingerprint, line: 0)) { try answer("a=setup:actpass\n") }
        #expect(throws: SDPError(.badSetup, line: 0)) { try answer("a=fingerprint:\(Self.theirs)\n") }
        #expect(throws: SDPError(.badSetup, line: 0)) { try answer("a=fingerprint:\(Self.theirs)\na=setup:holdconn\n") }
        let active = try answer("a=fingerprint:\(Self.theirs)\na=setup:active\n")
        #expect(active.dtlsRole == .server && active.remoteSetup == .active)
        let passive = try answer("a=fingerprint:\(Self.theirs)\na=setup:passive\n")
        #expect(passive.dtlsRole == .client)
        // sha-256 is preferred among several fingerprints.
        let several = try answer("a=fingerprint:sha-1 AA:BB\na=fingerprint:\(Self.theirs)\na=setup:actpass\n")
        #expect(several.remoteFingerprint == Self.theirs)
        #expect(throws: SDPError(.unsupportedProtocol, line: 0)) { try answer("", proto: "TCP/MRCPv2") }
        // The answer's own setup is active or passive.
        let offer = try SessionDescription.parse(Self.offer(video: Self.h264))
        #expect(throws: SDPError(.badSetup, line: 0)) { try Negotiation.answer(to: offer, plan: plan, transport: Self.transport(setup: .actpass)) }
        var noFingerprint = Self.transport()
        noFingerprint.fingerprint = nil
        #expect(throws: SDPError(.missingFingerprint, line: 0)) { try Negotiation.answer(to: offer, plan: plan, transport: noFingerprint) }
    }

    @Test func mixedProtocolsAndUnbundledOffers() throws {
        let mixed = """
            v=0
            s=-
            a=group:BUNDLE 0 1
            a=fingerprint:\(Self.theirs)
            a=setup:actpass
            m=audio 9 RTP/AVP 0
            a=mid:0
            m=video 9 UDP/TLS/RTP/SAVPF 96
            a=mid:1
            a=rtpmap:96 VP8/90000

            """
        let plan = MediaPlan(tracks: [Self.vp8Camera, LocalTrack(codec: .pcmu, direction: .sendrecv, payloadType: 0)])
        #expect(throws: SDPError(.mixedProtocols, line: 0)) { try Negotiation.answer(to: try SessionDescription.parse(mixed), plan: plan, transport: Self.transport()) }
        // Without BUNDLE, one transport carries the first acceptable section only; session-level
        // fingerprint and setup apply.
        let unbundled = mixed.replacingOccurrences(of: "a=group:BUNDLE 0 1\n", with: "").replacingOccurrences(of: "RTP/AVP 0", with: "UDP/TLS/RTP/SAVPF 0")
        let (answer, media) = try Negotiation.answer(to: try SessionDescription.parse(unbundled), plan: plan, transport: Self.transport())
        #expect(answer.media.map(\.port) == [40000, 0] && answer.bundleGroups.isEmpty && media.tracks.map(\.kind) == [.audio])
        // A section outside the BUNDLE group cannot share the transport; a bundle-only one can.
        let partial = mixed.replacingOccurrences(of: "a=group:BUNDLE 0 1", with: "a=group:BUNDLE 1").replacingOccurrences(of: "RTP/AVP 0", with: "UDP/TLS/RTP/SAVPF 0")
        let (answer2, _) = try Negotiation.answer(to: try SessionDescription.parse(partial), plan: plan, transport: Self.transport())
        #expect(answer2.media.map(\.port) == [0, 40000] && answer2.bundleGroups == [["1"]])
        let bundleOnly = partial.replacingOccurrences(of: "a=group:BUNDLE 1", with: "a=group:BUNDLE 0 1")
            .replacingOccurrences(of: "m=video 9", with: "m=video 0").replacingOccurrences(of: "a=mid:1\n", with: "a=mid:1\na=bundle-only\n")
        let (answer3, _) = try Negotiation.answer(to: try SessionDescription.parse(bundleOnly), plan: plan, transport: Self.transport())
        #expect(answer3.media.map(\.port) == [40000, 40000] && answer3.bundleGroups == [["0", "1"]])
        // RFC 5888 §4: a repeated mid cannot name a second section of the bundle.
        let repeated = bundleOnly.replacingOccurrences(of: "a=mid:1\n", with: "a=mid:0\n")
        let (answer4, _) = try Negotiation.answer(to: try SessionDescription.parse(repeated), plan: plan, transport: Self.transport())
        #expect(answer4.media.map(\.port) == [40000, 0] && answer4.bundleGroups == [["0"]])
    }

    @Test func ourOfferParsesBackToThePlan() throws {
        let plan = MediaPlan(tracks: [Self.camera, Self.intercom, LocalTrack(codec: .pcmu, direction: .recvonly, payloadType: 8)])
        let d = try SessionDescription.parse(try Negotiation.offer(plan: plan, transport: Self.transport()).serialize())
        #expect(d.bundleGroups == [["0", "1", "2"]] && d.media.map(\.mid) == ["0", "1", "2"])
        #expect(d.media.allSatisfy { $0.proto == "UDP/TLS/RTP/SAVPF" && $0.rtcpMux && $0.setup == .actpass && $0.fingerprints == [Self.ours] })
        for (m, track) in zip(d.media, plan.tracks) {
            #expect(m.kind == track.kind.rawValue && m.direction == track.direction)
            #expect(track.codec.payloadType(in: m) == (track.codec == .pcmu ? 0 : track.payloadType))
        }
        #expect(d.media[0].fmtps == ["96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"])
        #expect(d.media[0].rtcpFeedback == ["96 nack", "96 nack pli", "96 ccm fir"] && d.media[1].rtcpFeedback.isEmpty)
        #expect(d.media[0].candidates.count == 2 && d.media[1].candidates.isEmpty && d.media[0].port == 40000)
        #expect(d.credentials(media: 2)! == ("Ab3d", "0123456789abcdefghijklmn"))
        let plain = try Negotiation.offer(plan: plan, transport: Self.transport(.none))
        #expect(plain.media.allSatisfy { $0.proto == "RTP/AVP" && $0.fingerprints.isEmpty && $0.setup == nil })
    }

    @Test func offerAnswerBetweenTwoAgents() throws {
        // The doorbell offers video and intercom audio; a home that only receives video and
        // has no audio answers, and the doorbell reads the answer.
        let doorbell = MediaPlan(tracks: [Self.camera, Self.intercom])
        let offer = try SessionDescription.parse(try Negotiation.offer(plan: doorbell, transport: Self.transport()).serialize())
        let home = MediaPlan(tracks: [LocalTrack(codec: .h264Default, direction: .recvonly, payloadType: 120)])
        let (answer, homeMedia) = try Negotiation.answer(to: offer, plan: home, transport: Self.transport(setup: .active))
        #expect(homeMedia.tracks.map(\.payloadType) == [96] && homeMedia.tracks.map(\.direction) == [.recvonly])
        let read = try Negotiation.read(answer: try SessionDescription.parse(answer.serialize()), plan: doorbell, security: .dtlsSrtp)
        #expect(read.tracks.count == 1 && read.tracks[0].track == 0 && read.tracks[0].payloadType == 96)
        #expect(read.tracks[0].direction == .sendonly && read.tracks[0].rtcpFeedback == ["nack", "nack pli", "ccm fir"])
        #expect(read.dtlsRole == .server && homeMedia.dtlsRole == .client && read.remoteSetup == .active)
        #expect(read.remoteFingerprint == Self.ours && read.bundle == ["0"])
    }

    @Test func readingAnAnswerRefusesWhatDoesNotMirrorTheOffer() throws {
        let plan = MediaPlan(tracks: [Self.camera])
        func answer(_ setup: String, port: Int = 9, proto: String = "UDP/TLS/RTP/SAVPF", mid: String = "0",
                    fmtp: String = "packetization-mode=1;profile-level-id=42e01f", kind: String = "video") -> String {
            "v=0\ns=-\na=group:BUNDLE 0\nm=\(kind) \(port) \(proto) 96\na=mid:\(mid)\na=fingerprint:\(Self.theirs)\n\(setup)a=rtpmap:96 H264/90000\na=fmtp:96 \(fmtp)\na=recvonly\n"
        }
        func read(_ text: String) throws(SDPError) -> NegotiatedMedia {
            try Negotiation.read(answer: try SessionDescription.parse(text), plan: plan, security: .dtlsSrtp)
        }
        #expect(throws: SDPError(.badSetup, line: 0)) { try read(answer("a=setup:actpass\n")) }
        #expect(throws: SDPError(.badSetup, line: 0)) { try read(answer("a=setup:holdconn\n")) }
        #expect(throws: SDPError(.badSetup, line: 0)) { try read(answer("")) }
        #expect(try read(answer("a=setup:passive\n")).dtlsRole == .client)
        #expect(throws: SDPError(.answerMismatch, line: 0)) { try read(answer("a=setup:active\n", proto: "RTP/AVP")) }
        #expect(throws: SDPError(.answerMismatch, line: 0)) { try read(answer("a=setup:active\n", mid: "7")) }
        #expect(throws: SDPError(.answerMismatch, line: 0)) { try read(answer("a=setup:active\n", kind: "audio")) }
        #expect(throws: SDPError(.answerMismatch, line: 0)) { try read(answer("a=setup:active\n", fmtp: "packetization-mode=0;profile-level-id=42e01f")) }
        #expect(throws: SDPError(.answerMismatch, line: 0)) { try read(answer("a=setup:active\n") + "m=audio 9 UDP/TLS/RTP/SAVPF 0\n") }
        let rejected = "v=0\ns=-\nm=video 0 UDP/TLS/RTP/SAVPF 96\na=mid:0\n"
        #expect(throws: SDPError(.noAcceptableMedia, line: 0)) { try read(rejected) }
        #expect(throws: SDPError(.missingFingerprint, line: 0)) {
            try read(answer("a=setup:active\n").replacingOccurrences(of: "a=fingerprint:\(Self.theirs)\n", with: ""))
        }
    }

    @Test func codecsFromConfiguredRtpmapAndFmtp() {
        func codec(_ rtpmap: String, _ fmtp: String? = nil) -> Codec? {
            Codec(rtpmap: RTPMap(rtpmap[...])!, parameters: fmtp.flatMap { FormatParameters($0[...]) })
        }
        #expect(codec("96 H264/90000", "96 packetization-mode=1;profile-level-id=42e01f") == .h264Default)
        #expect(codec("96 h264/90000", "96 profile-level-id=640c1f; packetization-mode=1")
                == .h264(H264ProfileLevelID(profileIDC: 0x64, constraints: 0x0C, levelIDC: 0x1F)))
        #expect(codec("96 H264/90000", "96 packetization-mode=1") == .h264Default)
        #expect(codec("96 H264/90000") == nil && codec("96 H264/90000", "96 packetization-mode=0") == nil)
        #expect(codec("96 H264/90000", "96 packetization-mode=1;profile-level-id=42e0") == nil)
        #expect(codec("100 VP8/90000") == .vp8 && codec("111 opus/48000/2") == .opus && codec("0 PCMU/8000") == .pcmu)
        #expect(codec("0 PCMU/8000/1") == .pcmu && codec("111 opus/48000") == nil && codec("8 PCMA/8000") == nil)
        #expect(codec("96 VP8/48000") == nil && codec("98 VP9/90000") == nil)
    }

    @Test func invalidPlansAreRefused() throws {
        let offer = try Self.chromium()
        for plan in [MediaPlan(tracks: []), MediaPlan(tracks: [Self.camera, Self.vp8Camera.withPayloadType(96)]),
                     MediaPlan(tracks: [Self.camera.withPayloadType(128)]),
                     MediaPlan(tracks: Array(repeating: Self.camera, count: 9).enumerated().map { $1.withPayloadType(UInt8(96 + $0)) })] {
            #expect(throws: SDPError(.invalidPlan, line: 0)) { try Negotiation.answer(to: offer, plan: plan, transport: Self.transport()) }
            #expect(throws: SDPError(.invalidPlan, line: 0)) { try Negotiation.offer(plan: plan, transport: Self.transport()) }
        }
    }
}

extension LocalTrack {
    func withPayloadType(_ pt: UInt8) -> LocalTrack {
        var t = self
        t.payloadType = pt
        return t
    }
}
