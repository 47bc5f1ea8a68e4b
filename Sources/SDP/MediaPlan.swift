import ICE

/// One local media stream: what the local pipeline sends or receives, in one codec, at the
/// payload type the pipeline itself uses (the daemon rewrites it to the negotiated one).
public struct LocalTrack: Equatable, Sendable {
    public var codec: Codec
    /// From this agent's point of view: a camera's video is sendonly, an intercom's audio sendrecv.
    public var direction: MediaDirection
    /// The payload type the local pipeline writes and expects (0-127).
    public var payloadType: UInt8
    /// The SSRC the pipeline sends with, announced as a=ssrc cname (RFC 5576 §4.1) when set.
    public var ssrc: UInt32?

    public init(codec: Codec, direction: MediaDirection, payloadType: UInt8, ssrc: UInt32? = nil) {
        self.codec = codec
        self.direction = direction
        self.payloadType = payloadType
        self.ssrc = ssrc
    }

    public var kind: MediaKind { codec.kind }
}

/// The local tracks to offer, or to match against an offer, in order.
public struct MediaPlan: Equatable, Sendable {
    public var tracks: [LocalTrack]
    public static let maxTracks = 8

    public init(tracks: [LocalTrack]) { self.tracks = tracks }

    /// RFC 8843 §9.1: bundled sections share one RTP session, where a payload type names one
    /// codec; the pipeline's own payload types must be distinct and 7-bit (RFC 3550 §5.1).
    func validate() throws(SDPError) {
        guard !tracks.isEmpty, tracks.count <= Self.maxTracks else { throw SDPError(.invalidPlan, line: 0) }
        for i in tracks.indices {
            guard tracks[i].payloadType <= 127 else { throw SDPError(.invalidPlan, line: 0) }
            for j in tracks.indices where j < i && tracks[j].payloadType == tracks[i].payloadType {
                throw SDPError(.invalidPlan, line: 0)
            }
        }
    }
}

/// Whether media is protected: DTLS-SRTP (RFC 5763, RFC 5764), or plain RTP for peers that
/// cannot do it and deployments that accept that.
public enum MediaSecurity: Equatable, Sendable {
    case dtlsSrtp
    case none
}

/// The DTLS role this agent takes (RFC 8842 §5: active is the client).
public enum DTLSRole: Equatable, Sendable {
    case client, server
}

/// This agent's transport as it goes into a description: security, certificate, ICE.
public struct LocalTransport: Sendable {
    public var security: MediaSecurity
    /// The a=fingerprint value of the local certificate ("sha-256 AB:CD:..."; DTLS
    /// `Fingerprint.sdpValue`). Required with `.dtlsSrtp`.
    public var fingerprint: String?
    /// The role an answer takes when the offer says actpass: active (the DTLS client) by
    /// default, as RFC 8842 §5.3 recommends; offers always say actpass.
    public var setup: DTLSSetup
    public var iceUfrag: String
    public var icePwd: String
    public var iceOptions: [String]
    public var iceLite: Bool
    /// Candidates gathered so far, written in the first accepted section (the BUNDLE tag,
    /// RFC 8843 §7); the best one is also the m=/c= default (RFC 8839 §4.2.1.2).
    public var candidates: [Candidate]
    public var endOfCandidates: Bool
    public var origin: String

    public init(security: MediaSecurity, fingerprint: String?, setup: DTLSSetup = .active,
                iceUfrag: String, icePwd: String, iceOptions: [String] = ["trickle", "ice2"], iceLite: Bool = false,
                candidates: [Candidate] = [], endOfCandidates: Bool = false,
                origin: String = "ice-agent 1 1 IN IP4 0.0.0.0") {
        self.security = security
        self.fingerprint = fingerprint
        self.setup = setup
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.iceOptions = iceOptions
        self.iceLite = iceLite
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.origin = origin
    }
}

/// One local track carried by an accepted section.
public struct NegotiatedTrack: Equatable, Sendable {
    /// Index of the track in the plan.
    public var track: Int
    /// Index of its m= section in the offer and the answer.
    public var mediaIndex: Int
    public var mid: String?
    public var kind: MediaKind
    public var codec: Codec
    /// The payload type on the wire, as the offer numbered it (RFC 3264 §6.1).
    public var payloadType: UInt8
    /// The payload type the local pipeline uses: rewrite to `payloadType` on the way out and back.
    public var localPayloadType: UInt8
    /// From this agent's point of view; inactive when the directions do not meet.
    public var direction: MediaDirection
    /// The RTCP feedback both sides use for this payload type ("nack", "nack pli", "ccm fir").
    public var rtcpFeedback: [String]

    public init(track: Int, mediaIndex: Int, mid: String?, kind: MediaKind, codec: Codec, payloadType: UInt8,
                localPayloadType: UInt8, direction: MediaDirection, rtcpFeedback: [String]) {
        self.track = track
        self.mediaIndex = mediaIndex
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.payloadType = payloadType
        self.localPayloadType = localPayloadType
        self.direction = direction
        self.rtcpFeedback = rtcpFeedback
    }
}

/// What an offer/answer exchange settled.
public struct NegotiatedMedia: Equatable, Sendable {
    public var tracks: [NegotiatedTrack]
    public var security: MediaSecurity
    /// The peer's a=fingerprint value (raw, sha-256 preferred), nil without DTLS-SRTP.
    public var remoteFingerprint: String?
    /// The peer's a=setup as it applies to the bundle transport.
    public var remoteSetup: DTLSSetup?
    /// The DTLS role this agent takes; nil without DTLS-SRTP.
    public var dtlsRole: DTLSRole?
    /// The mids of the BUNDLE group (RFC 8843), empty without one.
    public var bundle: [String]

    public init(tracks: [NegotiatedTrack], security: MediaSecurity, remoteFingerprint: String?, remoteSetup: DTLSSetup?,
                dtlsRole: DTLSRole?, bundle: [String]) {
        self.tracks = tracks
        self.security = security
        self.remoteFingerprint = remoteFingerprint
        self.remoteSetup = remoteSetup
        self.dtlsRole = dtlsRole
        self.bundle = bundle
    }

    /// The negotiated track carrying plan track `index`, if it was accepted.
    public func track(_ index: Int) -> NegotiatedTrack? { tracks.first { $0.track == index } }

    /// The peer's section whose transport carries everything: the first accepted one (the
    /// BUNDLE tag, RFC 8843 §7). Its ICE credentials and candidates are the ones to use, and
    /// trickled candidates for its mid: a browser with bundle policy "balanced" gathers for
    /// each offered section until the answer, so another section's candidates (say, a rejected
    /// audio one's) belong to a transport it then closes.
    public var transportMediaIndex: Int? { tracks.min { $0.mediaIndex < $1.mediaIndex }?.mediaIndex }

    /// The mid of `transportMediaIndex`'s section.
    public var transportMid: String? { tracks.min { $0.mediaIndex < $1.mediaIndex }?.mid }
}
