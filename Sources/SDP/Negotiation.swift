import Common
import ICE

/// The SDP offer/answer exchange (RFC 3264) as WebRTC shapes it (RFC 8829 JSEP): one
/// bundled transport (RFC 8843) with rtcp-mux (RFC 5761), DTLS-SRTP keyed by the certificate
/// fingerprints (RFC 8842), and the media plan's tracks matched to the peer's sections.
/// Sans-IO: descriptions in, descriptions and the negotiated media out.
public enum Negotiation {
    /// The RTCP feedback this agent understands (RFC 4585 §4.2, RFC 5104 §7.1); rtx
    /// (RFC 4588) and transport-wide or bandwidth feedback are not offered nor answered.
    static let understoodFeedback = ["nack", "nack pli", "ccm fir"]

    /// Answers `offer`: one section per offered section, in order, with its mid (RFC 3264 §6,
    /// RFC 8829 §5.3.1). A section is accepted when an unused local track of its kind has a
    /// codec the section lists (the offer's payload type is kept); any other is rejected with
    /// port 0, its kind, proto and formats unchanged. One transport: only sections of the
    /// offer's first BUNDLE group can be accepted, and without a group only the first.
    public static func answer(to offer: SessionDescription, plan: MediaPlan,
                              transport: LocalTransport) throws(SDPError) -> (answer: SessionDescription, media: NegotiatedMedia) {
        try plan.validate()
        try check(transport)
        let group = offer.bundleGroups.first
        var usable: [Int] = []
        for i in offer.media.indices {
            let m = offer.media[i]
            guard MediaKind(rawValue: m.kind) != nil else { continue }
            // RFC 5888 §4: a mid names one section; a repeated one cannot be bundled or answered.
            if let mid = m.mid {
                guard !offer.media[..<i].contains(where: { $0.mid == mid }) else { continue }
            }
            if let group {
                guard let mid = m.mid, group.contains(mid) else { continue }
            }
            // RFC 8843 §6: a bundle-only section has port 0 and is still offered.
            guard m.port != 0 || (group != nil && m.bundleOnly) else { continue }
            usable.append(i)
        }
        var secure = false, plain = false
        for i in usable {
            switch RTPProfile(offer.media[i].proto) {
            case .secure: secure = true
            case .plain: plain = true
            case nil: break
            }
        }
        if secure && plain { throw SDPError(.mixedProtocols, line: 0) }
        if !secure && !plain { throw SDPError(usable.isEmpty ? .noAcceptableMedia : .unsupportedProtocol, line: 0) }
        if plain && transport.security == .dtlsSrtp { throw SDPError(.insecureOffer, line: 0) }
        if secure && transport.security == .none { throw SDPError(.encryptionUnavailable, line: 0) }

        var used = [Bool](repeating: false, count: plan.tracks.count)
        var accepted: [(media: Int, track: Int, payloadType: UInt8)] = []
        for i in usable where RTPProfile(offer.media[i].proto) != nil {
            if group == nil && !accepted.isEmpty { break }
            let m = offer.media[i]
            let theyReceive = offer.direction(media: i).receives
            for t in plan.tracks.indices where !used[t] && plan.tracks[t].kind.rawValue == m.kind {
                let track = plan.tracks[t]
                guard let pt = track.codec.payloadType(in: m, sending: track.direction.sends && theyReceive) else { continue }
                used[t] = true
                accepted.append((i, t, pt))
                break
            }
        }
        guard let first = accepted.first else { throw SDPError(.noAcceptableMedia, line: 0) }

        var media = NegotiatedMedia(tracks: [], security: transport.security, remoteFingerprint: nil,
                                    remoteSetup: nil, dtlsRole: nil, bundle: [])
        var localSetup: DTLSSetup? = nil
        if transport.security == .dtlsSrtp {
            let fingerprints = offer.fingerprints(media: first.media)
            guard !fingerprints.isEmpty else { throw SDPError(.missingFingerprint, line: 0) }
            media.remoteFingerprint = preferred(fingerprints)
            // RFC 8842 §5.3: answer actpass with active or passive; answer a role with its opposite.
            guard let remote = offer.setup(media: first.media) else { throw SDPError(.badSetup, line: 0) }
            switch remote {
            case .actpass: localSetup = transport.setup
            case .active: localSetup = .passive
            case .passive: localSetup = .active
            case .holdconn: throw SDPError(.badSetup, line: 0)
            }
            media.remoteSetup = remote
            media.dtlsRole = localSetup == .active ? .client : .server
        }

        var d = session(transport)
        let (port, address) = defaultAddress(transport.candidates)
        for i in offer.media.indices {
            let m = offer.media[i]
            guard let a = accepted.first(where: { $0.media == i }) else {
                // RFC 8829 §5.3.1: a rejected section keeps kind, proto and formats, with port 0.
                var r = MediaDescription(kind: m.kind, port: 0, proto: m.proto, formats: m.formats)
                r.connectionAddress = .v4Any
                r.mid = m.mid
                d.media.append(r)
                continue
            }
            let track = plan.tracks[a.track]
            let offered = offer.direction(media: i)
            let direction = MediaDirection(sends: track.direction.sends && offered.receives,
                                           receives: track.direction.receives && offered.sends)
            let feedback = understood(in: m, payloadType: a.payloadType)
            var r = section(track: track, index: a.track, kind: m.kind, port: port, address: address, proto: m.proto,
                            payloadType: a.payloadType, fmtp: answerParameters(track.codec, offer: m, payloadType: a.payloadType),
                            feedback: feedback, direction: direction, setup: localSetup, transport: transport)
            r.mid = m.mid
            r.rtcpMux = m.rtcpMux
            if a.media == first.media {
                r.candidates = transport.candidates
                r.endOfCandidates = transport.endOfCandidates
            }
            d.media.append(r)
            media.tracks.append(NegotiatedTrack(track: a.track, mediaIndex: i, mid: m.mid, kind: track.kind, codec: track.codec,
                                                payloadType: a.payloadType, localPayloadType: track.payloadType,
                                                direction: direction, rtcpFeedback: feedback))
        }
        if group != nil {
            // RFC 8843 §7.3.1: the answer's group lists the accepted sections only.
            var mids: [String] = []
            for a in accepted { if let mid = offer.media[a.media].mid { mids.append(mid) } }
            d.bundleGroups = [mids]
            media.bundle = mids
        }
        return (d, media)
    }

    /// An offer for `plan`: one section per track with mids "0", "1"..., all in one BUNDLE
    /// group (RFC 8843 §7.2), rtcp-mux, a=setup:actpass (RFC 8842 §5.2), the track's direction,
    /// codec and payload type (PCMU at its static 0), NACK/PLI/FIR feedback for video.
    public static func offer(plan: MediaPlan, transport: LocalTransport) throws(SDPError) -> SessionDescription {
        try plan.validate()
        try check(transport)
        var d = session(transport)
        let (port, address) = defaultAddress(transport.candidates)
        let proto = transport.security == .dtlsSrtp ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP"
        var mids: [String] = []
        for t in plan.tracks.indices {
            let track = plan.tracks[t]
            let pt = track.codec.staticPayloadType ?? track.payloadType
            var m = section(track: track, index: t, kind: track.kind.rawValue, port: port, address: address, proto: proto,
                            payloadType: pt, fmtp: track.codec.fmtpParameters,
                            feedback: track.kind == .video ? understoodFeedback : [], direction: track.direction,
                            setup: transport.security == .dtlsSrtp ? .actpass : nil, transport: transport)
            m.mid = "\(t)"
            m.rtcpMux = true
            if t == 0 {
                m.candidates = transport.candidates
                m.endOfCandidates = transport.endOfCandidates
            }
            mids.append("\(t)")
            d.media.append(m)
        }
        d.bundleGroups = [mids]
        return d
    }

    /// Reads the answer to an offer made with `offer(plan:transport:)` for the same plan and
    /// security: section i answers track i (RFC 3264 §6); port 0 rejects it.
    public static func read(answer: SessionDescription, plan: MediaPlan,
                            security: MediaSecurity) throws(SDPError) -> NegotiatedMedia {
        try plan.validate()
        guard answer.media.count == plan.tracks.count else { throw SDPError(.answerMismatch, line: 0) }
        let proto = security == .dtlsSrtp ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP"
        var media = NegotiatedMedia(tracks: [], security: security, remoteFingerprint: nil,
                                    remoteSetup: nil, dtlsRole: nil, bundle: answer.bundleGroups.first ?? [])
        for i in answer.media.indices {
            let m = answer.media[i], track = plan.tracks[i]
            guard m.kind == track.kind.rawValue, m.mid == nil || m.mid == "\(i)" else { throw SDPError(.answerMismatch, line: 0) }
            if m.port == 0 && !media.bundle.contains("\(i)") { continue }
            // RFC 3264 §6: the answer keeps the offer's transport protocol and payload types.
            guard m.proto == proto, let pt = track.codec.payloadType(in: m) else { throw SDPError(.answerMismatch, line: 0) }
            let answered = answer.direction(media: i)
            let direction = MediaDirection(sends: track.direction.sends && answered.receives,
                                           receives: track.direction.receives && answered.sends)
            media.tracks.append(NegotiatedTrack(track: i, mediaIndex: i, mid: m.mid, kind: track.kind, codec: track.codec,
                                                payloadType: pt, localPayloadType: track.payloadType, direction: direction,
                                                rtcpFeedback: understood(in: m, payloadType: pt)))
        }
        guard let first = media.tracks.first else { throw SDPError(.noAcceptableMedia, line: 0) }
        if security == .dtlsSrtp {
            let fingerprints = answer.fingerprints(media: first.mediaIndex)
            guard !fingerprints.isEmpty else { throw SDPError(.missingFingerprint, line: 0) }
            media.remoteFingerprint = preferred(fingerprints)
            // RFC 8842 §5.3: the answer to actpass is active or passive.
            let setup = answer.setup(media: first.mediaIndex)
            switch setup {
            case .active: media.dtlsRole = .server
            case .passive: media.dtlsRole = .client
            default: throw SDPError(.badSetup, line: 0)
            }
            media.remoteSetup = setup
        }
        return media
    }

    // MARK: Parts

    static func check(_ transport: LocalTransport) throws(SDPError) {
        if transport.security == .dtlsSrtp {
            guard let f = transport.fingerprint, SessionDescription.isFingerprintValue(f[...]) else {
                throw SDPError(.missingFingerprint, line: 0)
            }
            guard transport.setup == .active || transport.setup == .passive else { throw SDPError(.badSetup, line: 0) }
        }
    }

    static func session(_ transport: LocalTransport) -> SessionDescription {
        var d = SessionDescription()
        d.origin = transport.origin
        // RFC 8839 §5.4: session-level credentials apply to every section.
        d.iceUfrag = transport.iceUfrag
        d.icePwd = transport.icePwd
        d.iceOptions = transport.iceOptions
        d.iceLite = transport.iceLite
        return d
    }

    /// RFC 8839 §4.2.1.2: the default candidate (the best one here) goes in m= and c=; with
    /// none yet, port 9 and 0.0.0.0 (RFC 8840 §4.1.1).
    static func defaultAddress(_ candidates: [Candidate]) -> (UInt16, IPAddress) {
        var best: Candidate? = nil
        for c in candidates where c.type != .peerReflexive && c.component == 1 {
            if best == nil || c.priority > best!.priority { best = c }
        }
        return (best?.address.port ?? 9, best?.address.ip ?? .v4Any)
    }

    static func section(track: LocalTrack, index: Int, kind: String, port: UInt16, address: IPAddress, proto: String,
                        payloadType pt: UInt8, fmtp: String?, feedback: [String], direction: MediaDirection,
                        setup: DTLSSetup?, transport: LocalTransport) -> MediaDescription {
        var m = MediaDescription(kind: kind, port: port, proto: proto, formats: ["\(pt)"])
        m.connectionAddress = address
        m.rtpmaps = [track.codec.rtpmap(payloadType: pt).value]
        if let fmtp { m.fmtps = ["\(pt) \(fmtp)"] }
        m.direction = direction
        m.rtcpFeedback = feedback.map { "\(pt) \($0)" }
        if let setup, let f = transport.fingerprint {
            // Every section carries the DTLS attributes, as browsers write them (RFC 8829 §5.3.1).
            m.setup = setup
            m.fingerprints = [f]
        }
        if direction.sends {
            // RFC 8830 §2: the stream and track this section's media belongs to.
            m.otherAttributes.append("msid:ice-agent \(track.kind.rawValue)\(index)")
            if let ssrc = track.ssrc { m.otherAttributes.append("ssrc:\(ssrc) cname:ice-agent") }
        }
        return m
    }

    /// The fmtp an answer gives the accepted payload type.
    static func answerParameters(_ codec: Codec, offer m: MediaDescription, payloadType pt: UInt8) -> String? {
        guard case .h264(let local) = codec else { return codec.fmtpParameters }
        let fmtp = m.fmtps.lazy.compactMap { FormatParameters($0[...]) }.first { $0.format == "\(pt)" }
        // RFC 6184 §8.2.2: the same profile, at a level no higher than offered.
        var answered = local
        if let offered = Codec.h264Profile(fmtp), offered.levelIDC < local.levelIDC { answered.levelIDC = offered.levelIDC }
        let asymmetry = fmtp?.parameter("level-asymmetry-allowed") == "1" ? "level-asymmetry-allowed=1;" : ""
        return asymmetry + "packetization-mode=1;profile-level-id=" + answered.hex
    }

    /// The section's feedback for `pt` (or "*") that this agent understands, without repeats.
    static func understood(in m: MediaDescription, payloadType pt: UInt8) -> [String] {
        var out: [String] = []
        for v in m.rtcpFeedback {
            guard let fb = RTCPFeedback(v[...]), fb.payloadType == nil || fb.payloadType == pt else { continue }
            let name = fb.feedback.asciiLowercased()
            if understoodFeedback.contains(name) && !out.contains(name) { out.append(name) }
        }
        return out
    }

    /// sha-256, which every WebRTC endpoint supports (RFC 8827 §6.5), else the first.
    static func preferred(_ fingerprints: [String]) -> String {
        fingerprints.first { $0.asciiLowercased().hasPrefix("sha-256 ") } ?? fingerprints[0]
    }
}

/// The RTP profiles of an m= proto (RFC 8829 §5.1.3): secure ones are keyed by DTLS-SRTP.
enum RTPProfile {
    case secure, plain

    init?(_ proto: String) {
        switch proto.asciiUppercased() {
        case "UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF", "RTP/SAVP", "TCP/DTLS/RTP/SAVPF", "TCP/DTLS/RTP/SAVP":
            self = .secure
        case "RTP/AVP", "RTP/AVPF":
            self = .plain
        default:
            return nil
        }
    }
}
