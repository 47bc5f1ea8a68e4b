import Common
import STUN

/// Roles (RFC 8445 §6.1.1) and their conflicts (§7.3.1.1, §7.2.5.1).
extension Agent {
    func setRole(_ r: Role) {
        guard r != role else { return }
        role = r
        // Pair priorities depend on which side is controlling (RFC 8445 §6.1.2.3).
        for i in pairs.indices {
            pairs[i].priority = pairPriority(local: locals.index(of: pairs[i].local)!, remote: remotes.index(of: pairs[i].remote)!)
        }
        emit(.roleChanged(r))
    }

    /// RFC 8445 §7.3.1.1: a check claiming our role. The larger tie-breaker keeps its role;
    /// when that is ours, the check is answered 487 and goes no further (true).
    func rejectedForRoleConflict(_ m: Message, from source: TransportAddress, to localBase: TransportAddress) -> Bool {
        if role == .controlling, let theirs = try? m.uint64(.iceControlling) {
            counters.roleConflicts += 1
            if tieBreaker >= theirs {
                respondError(487, m, from: localBase, to: source, authenticated: true)
                return true
            }
            setRole(.controlled)
        } else if role == .controlled, let theirs = try? m.uint64(.iceControlled) {
            counters.roleConflicts += 1
            if tieBreaker >= theirs {
                setRole(.controlling)
            } else {
                respondError(487, m, from: localBase, to: source, authenticated: true)
                return true
            }
        }
        return false
    }

    /// RFC 8445 §7.2.5.1: our check got 487: switch role (once per conflict: not if another
    /// 487 already switched it since the check was sent) and retry the check.
    func retryAfterRoleConflict(pair p: Int, sentRole: Role) {
        counters.roleConflicts += 1
        if sentRole == role { setRole(role == .controlling ? .controlled : .controlling) }
        pairs[p].state = .waiting
        pairs[p].nominating = false
        if !triggered.push(pairs[p].id) { tableFull(.triggeredQueue) }
    }
}
