import Common
import Connectivity
import ICE
import Runtime
import SDP

extension Session {
    /// ICE restart asked by the peer (RFC 8445 §9, RFC 9725 §4.3.3): new local credentials,
    /// the peer's new ones and candidates, a fresh check list. Media keeps the previously
    /// selected pair until a new one is selected.
    func restartICE(_ fragment: TrickleFragment, ufrag: String, pwd: String, now: Instant) {
        connection.restart(now: now)
        agent.setRemoteCredentials(ufrag: ufrag, password: pwd)
        receiveFragment(fragment, now: now)
    }

    /// The trickle fragment answering a restart (RFC 9725 §4.3.3): the new ufrag and pwd and
    /// the local candidates, which a restart keeps (RFC 8445 §9 does not require gathering
    /// again).
    func restartFragment() -> String {
        var f = TrickleFragment()
        f.iceUfrag = agent.localCredentials.ufragText
        f.icePwd = agent.localCredentials.passwordText
        f.mid = "0"
        for c in agent.localCandidates where c.type != .peerReflexive { f.candidates.append(c) }
        f.endOfCandidates = gatheringDone
        return f.serialize(mediaLine: "m=\(media.kind) 9 RTP/AVP \(media.payloadType)")
    }
}
