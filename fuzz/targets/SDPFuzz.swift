// libFuzzer target over the SDP parsers (RFC 8866 with the RFC 8839 ICE attributes, RFC 8840
// trickle fragments): what `answer` reads from a WHIP POST body or stdin, and what a PATCH or
// a stdin trickle line carries. Built and run by `fuzz/run sdp`; see fuzz/README.md.
//
// Each input, as text, goes to `SessionDescription.parse`, `TrickleFragment.parse`, and line
// by line to `CandidateLine.parse`. A description that parses is also answered as an offer
// (`Negotiation.answer`, for a camera, a camera with an intercom, and a plain-RTP G.711 plan)
// and read as the answer to our offers (`Negotiation.read`).
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - what we serialize from a parsed description or fragment parses again (the peer and we
//     must accept our own output), with the same media sections, credentials and candidate
//     counts; only `tooLarge` may refuse it (serializing adds the v/o/s/t lines);
//   - a parsed candidate formats to a line that parses back to the same type, component,
//     transport, priority and address;
//   - limits hold: at most maxMedia sections and maxCandidates candidates;
//   - the re-parse keeps fingerprints, setup, direction, rtcp-fb and BUNDLE groups;
//   - an answer parses back, mirrors the offer's sections in order (kind, proto, mid), gives
//     port 0 exactly to the sections it rejects, accepts each plan track at most once at a
//     payload type the offer listed, bundles only accepted mids, and names a DTLS role
//     exactly when DTLS-SRTP is on; reading an answer yields at most one entry per track.
// Nothing is printed.

import Common
import ICE
import SDP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let t = text(input)
    session(t)
    trickle(t)
    var n = 0
    for line in t.split(separator: "\n", omittingEmptySubsequences: true) {
        n += 1
        if n > 64 { break }
        candidate(line, line: n)
    }
    return 0
}

func session(_ t: String) {
    let d: SessionDescription
    do throws(SDPError) {
        d = try SessionDescription.parse(t)
    } catch {
        sink(error.description)
        return
    }
    require(d.media.count <= SessionDescription.maxMedia, "more m= sections than maxMedia")
    var total = 0
    for m in d.media { total += m.candidates.count }
    require(total + d.skippedCandidates.count <= SessionDescription.maxCandidates, "more candidates than maxCandidates")
    for i in 0..<max(1, d.media.count) { sink(d.credentials(media: i)) }
    let out = d.serialize()
    let again: SessionDescription
    do throws(SDPError) {
        again = try SessionDescription.parse(out)
    } catch {
        require(error.kind == .tooLarge, "a serialized description does not parse")
        return
    }
    require(again.media.count == d.media.count, "re-parse changed the m= sections")
    require(again.iceUfrag == d.iceUfrag && again.icePwd == d.icePwd, "re-parse changed the session credentials")
    require(again.iceLite == d.iceLite, "re-parse changed ice-lite")
    for i in 0..<d.media.count {
        let a = d.media[i], b = again.media[i]
        require(a.kind == b.kind && a.port == b.port && a.proto == b.proto, "re-parse changed an m= line")
        require(a.iceUfrag == b.iceUfrag && a.icePwd == b.icePwd, "re-parse changed media credentials")
        require(a.candidates.count == b.candidates.count, "re-parse changed a candidate count")
        require(a.endOfCandidates == b.endOfCandidates, "re-parse changed end-of-candidates")
        for j in 0..<a.candidates.count { same(a.candidates[j], b.candidates[j]) }
        require(a.fingerprints == b.fingerprints && a.setup == b.setup && a.explicitDirection == b.explicitDirection,
                "re-parse changed the DTLS attributes or the direction")
        require(a.rtcpFeedback == b.rtcpFeedback && a.rtpmaps == b.rtpmaps && a.fmtps == b.fmtps,
                "re-parse changed rtpmap, fmtp or rtcp-fb")
    }
    require(again.bundleGroups == d.bundleGroups && again.fingerprints == d.fingerprints && again.setup == d.setup
            && again.direction == d.direction, "re-parse changed session-level WebRTC attributes")
    negotiate(d)
}

let fuzzFingerprint = "sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"
let fuzzCandidate = Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("1"),
                              address: TransportAddress(IPAddress.v4(0xC000_0207), 40000))
let fuzzPlans: [(MediaPlan, MediaSecurity)] = [
    (MediaPlan(tracks: [LocalTrack(codec: .h264Default, direction: .sendonly, payloadType: 96, ssrc: 1)]), .dtlsSrtp),
    (MediaPlan(tracks: [LocalTrack(codec: .vp8, direction: .sendonly, payloadType: 96),
                        LocalTrack(codec: .opus, direction: .sendrecv, payloadType: 111)]), .dtlsSrtp),
    (MediaPlan(tracks: [LocalTrack(codec: .pcmu, direction: .sendrecv, payloadType: 0),
                        LocalTrack(codec: .h264Default, direction: .recvonly, payloadType: 102)]), .none),
]

func negotiate(_ offer: SessionDescription) {
    for (plan, security) in fuzzPlans {
        let transport = LocalTransport(security: security, fingerprint: security == .dtlsSrtp ? fuzzFingerprint : nil,
                                       iceUfrag: "fuzz", icePwd: "0123456789abcdefghijklmn", candidates: [fuzzCandidate])
        do throws(SDPError) {
            let (answer, media) = try Negotiation.answer(to: offer, plan: plan, transport: transport)
            checkAnswer(answer, media, offer: offer, plan: plan, security: security)
        } catch {
            require(error.line == 0, "a negotiation error names a line")
        }
        do throws(SDPError) {
            let media = try Negotiation.read(answer: offer, plan: plan, security: security)
            require(!media.tracks.isEmpty && media.tracks.count <= plan.tracks.count, "read an answer into more tracks than planned")
            require((media.dtlsRole != nil) == (security == .dtlsSrtp), "a DTLS role without DTLS-SRTP, or none with it")
        } catch {
            require(error.line == 0, "a negotiation error names a line")
        }
    }
}

func checkAnswer(_ answer: SessionDescription, _ media: NegotiatedMedia, offer: SessionDescription, plan: MediaPlan,
                 security: MediaSecurity) {
    let again: SessionDescription
    do throws(SDPError) {
        again = try SessionDescription.parse(answer.serialize())
    } catch {
        fail("an answer does not parse")
    }
    require(again.media.count == offer.media.count, "an answer does not mirror every offered section")
    require(!media.tracks.isEmpty && media.tracks.count <= plan.tracks.count, "an answer with no track or too many")
    require((media.dtlsRole != nil) == (security == .dtlsSrtp), "a DTLS role without DTLS-SRTP, or none with it")
    var seen = [Bool](repeating: false, count: plan.tracks.count)
    for i in 0..<offer.media.count {
        let o = offer.media[i], a = again.media[i]
        require(a.kind == o.kind && a.proto == o.proto && a.mid == o.mid, "an answered section changed kind, proto or mid")
        let track = media.tracks.first { $0.mediaIndex == i }
        require((track == nil) == (a.port == 0), "port 0 on an accepted section, or not on a rejected one")
        guard let track else { continue }
        require(!seen[track.track], "a plan track accepted twice")
        seen[track.track] = true
        require(o.formats.contains("\(track.payloadType)") && a.formats == ["\(track.payloadType)"],
                "an accepted payload type the offer did not list")
        require(a.fingerprints.isEmpty == (security == .none), "fingerprint presence does not follow the security")
        require(security == .none || a.setup == .active || a.setup == .passive, "an answer's setup is not active or passive")
    }
    for mid in media.bundle {
        require(media.tracks.contains { $0.mid == mid }, "a rejected mid in the answer's BUNDLE group")
    }
    require(again.bundleGroups == (media.bundle.isEmpty && offer.bundleGroups.isEmpty ? [] : [media.bundle]),
            "the answer's BUNDLE group is not the accepted mids")
}

func trickle(_ t: String) {
    let f: TrickleFragment
    do throws(SDPError) {
        f = try TrickleFragment.parse(t)
    } catch {
        sink(error.description)
        return
    }
    require(f.candidates.count + f.skippedCandidates.count <= SessionDescription.maxCandidates,
            "more trickled candidates than maxCandidates")
    let again: TrickleFragment
    do throws(SDPError) {
        again = try TrickleFragment.parse(f.serialize())
    } catch {
        require(error.kind == .tooLarge, "a serialized fragment does not parse")
        return
    }
    require(again.candidates.count == f.candidates.count, "fragment re-parse changed the candidates")
    require(again.endOfCandidates == f.endOfCandidates, "fragment re-parse changed end-of-candidates")
    for j in 0..<f.candidates.count { same(f.candidates[j], again.candidates[j]) }
}

func candidate(_ line: Substring, line n: Int) {
    let c: Candidate
    do throws(SDPError) {
        c = try CandidateLine.parse(line, line: n)
    } catch {
        require(error.line == n, "a candidate error names another line")
        return
    }
    let formatted = CandidateLine.format(c)
    do throws(SDPError) {
        same(c, try CandidateLine.parse(formatted[...], line: n))
    } catch {
        fail("a formatted candidate does not parse")
    }
}

func same(_ a: Candidate, _ b: Candidate) {
    require(a.type == b.type && a.component == b.component && a.transport == b.transport,
            "candidate round trip changed type, component or transport")
    require(a.priority == b.priority, "candidate round trip changed the priority")
    require(a.address == b.address, "candidate round trip changed the address")
}
