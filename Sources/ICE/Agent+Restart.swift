import Common
import STUN

/// ICE restart (RFC 8445 §9).
extension Agent {
    /// ICE restart (RFC 8445 §9): new local ufrag and password, a fresh check list. Media
    /// keeps flowing on the previously selected pair until a new one is selected.
    public func restart(now: Instant) {
        for c in components.indices {
            // Media goes on over the old pair only while it still has consent (RFC 7675 §5.1).
            if let s = selectedIndex(c), state != .failed {
                previousSelection[c] = (local(ofPair: s), remote(ofPair: s))
                previousSelectionExpiry[c] = (components[c].lastConsent ?? now) + Timing.consentTimeout
            } else if state == .failed {
                previousSelection[c] = nil
                previousSelectionExpiry[c] = nil
            }
            components[c] = ComponentState()
        }
        localCredentials = Credentials.random(&random)
        remoteCredentials = nil
        remotes.removeAll()
        pairs.removeAll()
        triggered.removeAll()
        // Gathering transactions survive; checks and consent belong to the old generation.
        transactions.removeAll { !$0.isGathering }
        // Peer-reflexive local candidates belong to the old checks too.
        locals.removeAll { $0.type == .peerReflexive }
        remoteEndOfCandidates = false
        remoteCandidateWaitOver = false
        lastRemoteCandidateAt = nil
        setState(.checking)
        for k in locals.indices where locals[k].type != .peerReflexive { emit(.localCandidate(locals[k])) }
        if gatheringComplete { emit(.gatheringComplete) }
    }
}
