import Common
import STUN

/// Remote credentials and candidates from signaling, at any time (trickle, RFC 8838), and
/// which addresses may be checked at all.
extension Agent {
    public func setRemoteCredentials(ufrag: String, password: String) {
        remoteCredentials = Credentials(ufrag: ufrag, password: password)
    }

    /// A remote candidate from signaling, at any time (trickle, RFC 8838).
    public func addRemoteCandidate(_ candidate: Candidate, now: Instant) throws(ICEError) {
        guard validComponent(candidate.component) else { throw .invalidComponent }
        guard candidate.transport == .udp else { throw .unsupportedCandidate }
        guard mayCheck(candidate.address) else { throw .forbiddenAddress }
        lastRemoteCandidateAt = now
        remoteCandidateWaitOver = false
        // A candidate we already know as peer-reflexive gets its signalled type and priority
        // (RFC 8445 §7.3.1.3 note): keep the pairs, refresh their priorities.
        if let i = remotes.firstIndex(where: { $0.address == candidate.address && $0.component == candidate.component }) {
            if remotes[i].type == .peerReflexive {
                // The same candidate, learned better: it keeps its id, and so its pairs.
                let id = remotes[i].id
                remotes[i] = candidate
                remotes[i].id = id
                for p in pairs.indices where pairs[p].remote == id {
                    pairs[p].priority = pairPriority(local: locals.index(of: pairs[p].local)!, remote: i)
                }
            }
            return
        }
        guard insert(candidate, into: &remotes) != nil else {
            tableFull(.remoteCandidates)
            throw .tableFull(.remoteCandidates)
        }
        let r = remotes.count - 1
        for l in locals.indices where locals[l].type == .host || locals[l].type == .relayed {
            addPair(local: l, remote: r, initial: true)
        }
        if state == .new && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        if state == .failed && !pairs.isEmpty { setState(.checking) }
        // No check is sent from here: a description brings several candidates in a row, and
        // the first check must go to the best pair among all of them (RFC 8445 §6.1.4.2). The
        // pacer runs at `nextDeadline`, which is now due.
    }

    /// Signalling is not authenticated by ICE: a candidate must not turn the agent into a
    /// packet source aimed at addresses that are no peer (RFC 8445 §5.1.1 lists the addresses
    /// that are never candidates; RFC 7675 §1 the abuse consent guards against).
    func mayCheck(_ a: TransportAddress) -> Bool {
        let ip = a.ip
        if a.port == 0 || ip.isUnspecified || ip.isMulticast || ip.isLimitedBroadcast { return false }
        if ip.isLoopback && !configuration.allowLoopback { return false }
        return true
    }

    /// The peer signalled end-of-candidates (RFC 8838 §8): failure can now be declared as
    /// soon as every pair failed.
    public func setRemoteEndOfCandidates(now: Instant) {
        remoteEndOfCandidates = true
        checkFailure(now: now)
    }
}
