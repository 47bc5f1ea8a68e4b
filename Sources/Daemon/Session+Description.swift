import Common
import Connectivity
import DTLS
import ICE
import Runtime
import SDP

/// What the session took from the peer's description for its media: the DTLS-SRTP binding
/// and the payload type its codec has on the wire.
struct PeerMedia {
    /// The peer's section whose transport carries the bundle: the one ICE credentials and
    /// candidates are taken from.
    var section: Int
    /// The peer's certificate fingerprint and the DTLS role this side takes (RFC 5763 §5),
    /// nil for clear media.
    var dtls: (fingerprint: Fingerprint, role: DTLS.DTLSRole)?
    /// Per track, the pipeline's payload type and the one the peer numbered its codec with
    /// (RFC 3264 §6.1).
    var payloadTypes: [(pipeline: UInt8, wire: UInt8)] = []
}

extension Session {
    /// The description this session signals: the answer to the peer's offer when it has one
    /// (JSEP-shaped, RFC 8829 §5.3), else an offer; the answerer that speaks first (stdio)
    /// offers with a=setup:active, the role it takes in any answer (RFC 8842 §5.3).
    func currentDescription() -> String {
        guard let plan = media.plan else { return legacyDescription() }
        let transport = localTransport()
        do throws(SDPError) {
            if let offer = remoteOffer {
                return try Negotiation.answer(to: offer, plan: plan, transport: transport).answer.serialize()
            }
            var d = try Negotiation.offer(plan: plan, transport: transport)
            if !offerer { for i in d.media.indices where d.media[i].setup == .actpass { d.media[i].setup = .active } }
            return d.serialize()
        } catch {
            Log.warning("\(name): description: \(error.description)")
            return legacyDescription()
        }
    }

    func localTransport() -> LocalTransport {
        var candidates: [Candidate] = []
        for c in agent.localCandidates where c.type != .peerReflexive { candidates.append(c) }
        return LocalTransport(security: media.security, fingerprint: identity?.fingerprint.sdpValue, setup: .active,
                              iceUfrag: agent.localCredentials.ufragText, icePwd: agent.localCredentials.passwordText,
                              iceLite: agent.configuration.lite, candidates: candidates, endOfCandidates: gatheringDone)
    }

    /// A codec negotiation does not know (`--rtpmap` names another): the one m= line as
    /// configured, with the DTLS-SRTP attributes when media is protected.
    func legacyDescription() -> String {
        var d = makeDescription(agent: agent, media: media, lite: agent.configuration.lite, endOfCandidates: gatheringDone)
        guard media.security == .dtlsSrtp, let identity else { return d.serialize() }
        for i in d.media.indices {
            d.media[i].proto = "UDP/TLS/RTP/SAVPF"
            d.media[i].fingerprints = [identity.fingerprint.sdpValue]
            d.media[i].setup = offerer ? .actpass : .active
        }
        return d.serialize()
    }

    /// The section that carries the transport: the first of the offer's BUNDLE group (its
    /// tag, RFC 8843 §7), else the first.
    static func transportSection(_ d: SessionDescription) -> Int {
        if let mid = d.bundleGroups.first?.first, let i = d.media.firstIndex(where: { $0.mid == mid }) { return i }
        return 0
    }

    /// Checks the peer's description against this session's media: with DTLS-SRTP it must
    /// carry a sha-256 fingerprint and a usable a=setup; an offer must be answerable.
    func peerMedia(_ d: SessionDescription) throws(SDPError) -> PeerMedia {
        var peer = PeerMedia(section: Self.transportSection(d))
        if let plan = media.plan, !offerer, media.security == .dtlsSrtp || !d.bundleGroups.isEmpty {
            // What we will answer must exist: a browser's offer with nothing we can carry is
            // refused now, with the reason, not after gathering.
            let answer = try Negotiation.answer(to: d, plan: plan, transport: localTransport())
            for t in answer.media.tracks { peer.payloadTypes.append((t.localPayloadType, t.payloadType)) }
            // The first section we accept carries the transport (RFC 8843 §7): a browser with
            // bundle policy "balanced" gathers for a rejected section too, on a transport it
            // closes after the answer.
            if let i = answer.media.transportMediaIndex { peer.section = i }
        } else if let plan = media.plan {
            // Our offer's tracks against the answer's sections of the same kind (RFC 3264 §6).
            for track in plan.tracks {
                for m in d.media where m.kind == track.kind.rawValue && m.port != 0 {
                    if let pt = track.codec.payloadType(in: m) { peer.payloadTypes.append((track.payloadType, pt)) }
                    break
                }
            }
        }
        switch media.security {
        case .none:
            if !d.fingerprints(media: peer.section).isEmpty {
                Log.warning("\(name): the peer offers DTLS-SRTP but --media-security none sends clear RTP, which it will drop")
            }
        case .dtlsSrtp:
            var fingerprint: Fingerprint? = nil
            for value in d.fingerprints(media: peer.section) {
                if let f = try? Fingerprint(sdpValue: value[...]) {
                    fingerprint = f
                    break
                }
            }
            guard let fingerprint else {
                throw SDPError(d.fingerprints(media: peer.section).isEmpty ? .missingFingerprint : .badFingerprint, line: 0)
            }
            // RFC 8842 §5: active is the client. This side answers active, so an actpass offer
            // makes it the client; an answer must not say actpass; absent means active
            // (RFC 4145 §4).
            let role: DTLS.DTLSRole
            switch d.setup(media: peer.section) {
            case .active, nil: role = .server
            case .passive: role = .client
            case .actpass:
                guard !offerer else { throw SDPError(.badSetup, line: 0) }
                role = .client
            case .holdconn: throw SDPError(.badSetup, line: 0)
            }
            peer.dtls = (fingerprint, role)
        }
        return peer
    }

    /// Binds the call's media to what the peer's description said: DTLS-SRTP with its
    /// fingerprint, and the payload type rewrite between the pipeline and the wire.
    func applyPeerMedia(_ peer: PeerMedia, now: Instant) {
        mediaRelay.payloadTypes = peer.payloadTypes.filter { $0.pipeline != $0.wire }
        for (local, wire) in mediaRelay.payloadTypes { Log.info("\(name): media: payload type \(local) is \(wire) on the wire") }
        guard let (fingerprint, role) = peer.dtls, let identity else { return }
        do throws(DTLSError) {
            try connection.secureMedia(identity: identity, role: role, remoteFingerprint: fingerprint, now: now)
            Log.info("\(name): media: DTLS-SRTP as DTLS \(role == .client ? "client" : "server")")
        } catch {
            Log.error("\(name): media: cannot start DTLS: \(error.description)")
            mediaFailed = true
            events.push(.mediaSecurityFailed, now: now)
        }
    }
}

extension MediaConfig {
    /// The codec the configured rtpmap names, when negotiation knows it (H264 in
    /// packetization-mode 1, VP8, Opus, PCMU).
    public var codec: Codec? {
        guard let map = RTPMap(rtpmap[...]) else { return nil }
        return Codec(rtpmap: map, parameters: fmtp.flatMap { FormatParameters($0[...]) })
    }

    /// The payload type the pipeline writes (`--payload-type`).
    public var pipelinePayloadType: UInt8? { UInt8(payloadType) }

    /// The one track this agent carries: it sends what `--rtp-in` gives and receives into
    /// `--rtp-out`; with neither configured it offers both ways.
    public var plan: MediaPlan? {
        guard let codec, codec.kind.rawValue == kind, let pt = pipelinePayloadType, pt <= 127 else { return nil }
        let sends = sends ?? true, receives = receives ?? true
        let direction = (sends || receives) ? MediaDirection(sends: sends, receives: receives) : .sendrecv
        var tracks = [LocalTrack(codec: codec, direction: direction, payloadType: pt)]
        // The intercom: Opus both ways beside the camera, in the same bundle (RFC 8843).
        if intercom, codec.kind == .video, pt != MediaConfig.intercomPayloadType {
            tracks.append(LocalTrack(codec: .opus, direction: .sendrecv, payloadType: MediaConfig.intercomPayloadType))
        }
        return MediaPlan(tracks: tracks)
    }

    /// The payload type the intercom's audio pipeline uses on `--rtp-in` and `--rtp-out`.
    public static let intercomPayloadType: UInt8 = 111
}
