import Common
import ICE
import Runtime
import SDP

/// A session's signaling transport (stdio, HTTP, or the other session in `demo`). The
/// session owns it: it hands it what goes out, and polls what came in on its own timer
/// (`inboundDeadline`, `pollInbound`), so a transport never holds the session it serves.
public protocol SignalingTransport: AnyObject {
    func sendDescription(_ sdp: String)
    /// A trickled candidate (RFC 8838 §4); `local` names the ICE session it belongs to
    /// (RFC 8840 §4.4: a fragment carries the ufrag and pwd).
    func sendCandidate(_ c: Candidate, local: Credentials)
    func sendEndOfCandidates(local: Credentials)
    /// An ICE restart on our initiative (RFC 8445 §9): `description` is the new offer (stdio,
    /// in-memory), `fragment` the same as a trickle-ice-sdpfrag for a PATCH with If-Match: *
    /// (RFC 9725 §4.3.3); each transport sends the one its peer expects.
    func sendRestart(description: String, fragment: String)
    /// Since when a message from the peer has waited (nil: none waits).
    var inboundDeadline: Instant? { get }
    func pollInbound() -> SignalingMessage?
}

/// What arrives from the peer over signaling, in order.
public enum SignalingMessage {
    /// Its description (SDP text, not yet parsed: the session judges it).
    case description(String)
    case candidate(Candidate)
    case endOfCandidates
    /// The peer's answer to our ICE restart as a trickle-ice-sdpfrag (its new ufrag and pwd
    /// and its candidates, RFC 9725 §4.3.3).
    case restartAnswer(String)
    /// The transport ended (stdin closed): no more messages come.
    case closed
}

/// Media the session offers: one RTP stream with rtcp-mux on component 1.
/// The m= line (RFC 8866 §5.14): media kind, payload type and its rtpmap/fmtp, from the
/// command line or configuration file.
public struct MediaConfig {
    public var kind = "video"
    public var payloadType = "96"
    public var rtpmap = "96 H264/90000"
    public var fmtp: String? = "96 packetization-mode=1;profile-level-id=42e01f"
    /// DTLS-SRTP (RFC 5764) unless the user asked for clear RTP (`--media-security none`).
    public var security: MediaSecurity = .dtlsSrtp
    /// Whether this agent sends (`--rtp-in`) and receives (`--rtp-out`) media; nil: not
    /// said, both ways.
    public var sends: Bool? = nil
    public var receives: Bool? = nil
    /// `--intercom`: an Opus track both ways beside the video (payload type 111 on the
    /// pipeline's side).
    public var intercom = false

    public init() {}
}

/// The description a session signals (RFC 8839 + RFC 8866): credentials, trickle, one m=
/// line with the candidates gathered so far and the default candidate in m=/c=.
func makeDescription(agent: Agent<SystemRandom>, media: MediaConfig, lite: Bool, endOfCandidates: Bool = false) -> SessionDescription {
    var d = SessionDescription()
    d.origin = "ice-agent 1 1 IN IP4 0.0.0.0"
    d.iceUfrag = agent.localCredentials.ufragText
    d.icePwd = agent.localCredentials.passwordText
    d.iceOptions = ["trickle", "ice2"]
    d.iceLite = lite
    var candidates: [Candidate] = []
    for c in agent.localCandidates where c.type != .peerReflexive { candidates.append(c) }
    // RFC 8839 §4.2.1.2: the default candidate goes in m= and c=; the best (host) one here.
    let def = candidates.max { $0.priority < $1.priority }
    var m = MediaDescription(kind: media.kind, port: def?.address.port ?? 9, proto: "RTP/AVP", formats: [media.payloadType])
    m.connectionAddress = def?.address.ip ?? .v4Any
    m.mid = "0"
    m.rtcpMux = true
    m.rtpmaps = [media.rtpmap]
    if let f = media.fmtp { m.fmtps = [f] }
    m.candidates = candidates
    m.endOfCandidates = endOfCandidates
    d.media = [m]
    return d
}
