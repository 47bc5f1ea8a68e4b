import Common
import Connectivity
import ICE
import Runtime
import SDP

extension Session {
    /// ICE restart on our initiative (RFC 8445 §9): new local credentials and a fresh check
    /// list, sent to the peer as its transport expects (a new offer, or a PATCH with
    /// If-Match: *, RFC 9725 §4.3.3). Media keeps the previously selected pair until a new one
    /// is selected; DTLS keeps its association (the certificates do not change). False when
    /// there is no peer to restart with yet, or a restart already waits for its answer.
    /// With `added` or `removed` host bases (the network changed), the bases change inside
    /// the restart: the new candidates go in its description, and the old ones leave a check
    /// list that is already empty, which cannot fail the call while its replacement starts.
    @discardableResult
    public func restartICE(now: Instant, added: [TransportAddress] = [], removed: [TransportAddress] = []) -> Bool {
        guard remoteDescriptionReceived, let signaling, !restartPending, agent.state != .closed else { return false }
        connection.restart(now: now, added: added, removed: removed)
        restartPending = true
        restartDeadline = now + Self.restartAnswerTimeout
        restarts += 1
        Log.info("\(name): ICE restart (ufrag \(agent.localCredentials.ufragText))")
        // Before the candidates the restart re-signals (queued as events): the peer must
        // learn the new credentials first.
        signaling.sendRestart(description: currentDescription(), fragment: restartFragment())
        pump(now: now)
        return true
    }

    /// A description after the first: with a new ufrag, an ICE restart (RFC 8445 §9) — the
    /// answer to ours, or the peer's own, which restarts this side too and is answered with
    /// a new description; the same ufrag again changes nothing. Only the ICE credentials and
    /// candidates are taken: media and DTLS continue as negotiated, and a description naming
    /// another certificate is refused (only the peer that authenticated may go on).
    func receiveLaterDescription(_ d: SessionDescription, now: Instant) throws(SDPError) {
        let peer = try peerMedia(d)
        guard let creds = d.credentials(media: peer.section) else { throw SDPError(.badCredentials, line: 0) }
        if let expected = peerFingerprint, peer.dtls?.fingerprint != expected { throw SDPError(.badFingerprint, line: 0) }
        guard creds.ufrag != agent.remoteCredentials?.ufragText else { return }
        if restartPending {
            restartPending = false
        } else {
            connection.restart(now: now)
            restarts += 1
            Log.info("\(name): ICE restart asked by the peer (ufrag \(agent.localCredentials.ufragText))")
            if !offerer { remoteOffer = d }
            // The answer to the peer's new offer, or our offer answering its new answer.
            signaling?.sendDescription(currentDescription())
        }
        agent.setRemoteCredentials(ufrag: creds.ufrag, password: creds.pwd)
        takeCandidates(of: d, section: peer.section, now: now)
    }

    /// The peer's answer to our restart over HTTP: its new credentials and candidates as a
    /// trickle-ice-sdpfrag (RFC 9725 §4.3.3, RFC 8840).
    func receiveRestartAnswer(_ text: String, now: Instant) {
        guard restartPending else { return }
        let f: TrickleFragment
        do throws(SDPError) { f = try TrickleFragment.parse(text) } catch {
            Log.warning("\(name): ICE restart answer refused: \(error.description)")
            return
        }
        guard let ufrag = f.iceUfrag, let pwd = f.icePwd else {
            Log.warning("\(name): ICE restart answer without ice-ufrag and ice-pwd")
            return
        }
        restartPending = false
        agent.setRemoteCredentials(ufrag: ufrag, password: pwd)
        receiveFragment(f, now: now)
    }

    /// How long our restart waits for the peer's new credentials: as long as a call's setup
    /// may take over signaling that retries (the HTTP client's 5 s per request, twice).
    static let restartAnswerTimeout = Interval.seconds(10)

    /// No answer to our restart: the peer is gone or cannot be reached over signaling, and
    /// without its new credentials no check can succeed. The owner ends the call.
    func restartUnanswered(now: Instant) {
        restartPending = false
        restartDeadline = nil
        restartFailed = true
        Log.error("\(name): ICE restart: no answer from the peer in \(Self.restartAnswerTimeout.milliseconds / 1000) s")
        events.push(.restartUnanswered, now: now)
    }

    /// RFC 7675 §5.1: consent lost for `Timing.disconnectedAfter` on the selected pair. A
    /// side that can signal a restart does so rather than wait for consent to expire: a NAT
    /// that rebound (a new external port) or a local address that went away leaves the old
    /// pair dead, and new checks find the path that works now. When both sides restart at
    /// once, each takes the other's restart for the answer to its own: both end up with the
    /// other's newest credentials.
    func consentLost(now: Instant) {
        guard initiatesRestarts else { return }
        if restartICE(now: now) { Log.info("\(name): consent lost: restarting ICE") }
    }

    /// The NAT gave the selected pair a new external port (a flushed or expired mapping): the
    /// peer still sends to the old one, so this side restarts ICE at once rather than wait
    /// for the peer's consent to lapse.
    func mappingRebound(now: Instant) {
        guard initiatesRestarts else { return }
        if restartICE(now: now) { Log.info("\(name): mapping changed: restarting ICE") }
    }

    /// ICE restart asked by the peer (RFC 8445 §9, RFC 9725 §4.3.3): new local credentials,
    /// the peer's new ones and candidates, a fresh check list. Media keeps the previously
    /// selected pair until a new one is selected.
    func restartICE(_ fragment: TrickleFragment, ufrag: String, pwd: String, now: Instant) {
        connection.restart(now: now)
        restarts += 1
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
