import Common
import STUN

/// The check list (RFC 8445 §6.1.2): pairs, their priorities and Frozen/Waiting states; the
/// pacer that sends one new check per Ta (§6.1.4.2); and the verdict that checking failed
/// (§8.1.2, RFC 8838 §8).
extension Agent {
    func pairWithRemotes(localIndex l: Int) {
        for r in remotes.indices { addPair(local: l, remote: r, initial: true) }
    }

    func pairPriority(local l: Int, remote r: Int) -> UInt64 {
        let lp = locals[l].priority, rp = remotes[r].priority
        return role == .controlling ? CandidatePair.priority(controlling: lp, controlled: rp)
                                    : CandidatePair.priority(controlling: rp, controlled: lp)
    }

    /// Adds a pair if compatible (same component and address family) and not already there.
    /// New check-list pairs start Frozen, or Waiting if first of their foundation (§6.1.2.6).
    @discardableResult
    func addPair(local l: Int, remote r: Int, initial: Bool) -> Int? {
        let lc = locals[l], rc = remotes[r]
        guard lc.component == rc.component, lc.address.ip.isIPv4 == rc.address.ip.isIPv4 else { return nil }
        if let existing = pairs.firstIndex(where: { $0.local == l && $0.remote == r }) { return existing }
        var p = CandidatePair(local: l, remote: r, component: lc.component, priority: pairPriority(local: l, remote: r))
        if initial {
            let sameFoundationActive = pairs.contains { q in
                q.discoveredFrom == nil && q.state != .frozen && q.state != .failed
                    && locals[q.local].foundation == lc.foundation && remotes[q.remote].foundation == rc.foundation
            }
            p.state = sameFoundationActive ? .frozen : .waiting
        }
        guard pairs.append(p) else {
            // RFC 8445 §6.1.2.5: keep the highest-priority pairs; replace a lower Frozen one.
            if let victim = lowestFrozenPair(below: p.priority) {
                pairs[victim] = p
                return victim
            }
            tableFull(.pairs)
            return nil
        }
        return pairs.count - 1
    }

    func lowestFrozenPair(below priority: UInt64) -> Int? {
        var best: Int? = nil
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].priority < priority {
            if best == nil || pairs[i].priority < pairs[best!].priority { best = i }
        }
        return best
    }

    /// Sends whatever is due now: the next paced transaction (gathering, triggered check,
    /// ordinary check; one per Ta, RFC 8445 §6.1.4.2) and nominations.
    func pump(now: Instant) {
        guard state != .closed else { return }
        decideNominations(now: now)
        guard !configuration.lite else { return }
        // Nominations go out at once: one check per component, and waiting up to Ta for it
        // would add to every connect (the goal is two RTTs when the first check succeeds).
        sendPendingNominations(now: now)
        if let last = lastPacedSend, now < last + configuration.ta { return }
        if startNextGather(now: now) || sendNextCheck(now: now) { lastPacedSend = now }
    }

    /// The check the pacer would send next (RFC 8445 §6.1.4.2).
    enum PacedCheck {
        case triggered(Int)
        case waiting(Int)
        /// A Frozen pair to unfreeze and check.
        case frozen(Int)
    }

    func triggeredCheckUsable(_ p: Int) -> Bool { p < pairs.count && pairs[p].state != .succeeded }

    /// RFC 8445 §6.1.4.2: a triggered check first, else the highest-priority Waiting pair, else
    /// the best Frozen pair whose foundation has nothing Waiting or In-Progress. Nil when
    /// nothing can be sent now, including when no transaction slot is free.
    func nextPacedCheck() -> PacedCheck? {
        guard remoteCredentials != nil, state != .failed, !transactions.isFull else { return nil }
        if let p = triggered.first(where: { triggeredCheckUsable($0) }) { return .triggered(p) }
        if let p = bestPair(in: .waiting) { return .waiting(p) }
        var candidate: Int? = nil
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].discoveredFrom == nil && !componentDone(pairs[i].component) {
            let lf = locals[pairs[i].local].foundation, rf = remotes[pairs[i].remote].foundation
            // Pairs of a nominated component are never checked again (RFC 8445 §8.1.2), so
            // they do not hold their foundation.
            let busy = pairs.contains { q in
                (q.state == .waiting || q.state == .inProgress) && !componentDone(q.component)
                    && locals[q.local].foundation == lf && remotes[q.remote].foundation == rf
            }
            if !busy && (candidate == nil || pairs[i].priority > pairs[candidate!].priority) { candidate = i }
        }
        return candidate.map { .frozen($0) }
    }

    /// Whether the pacer can send something now (so it needs a Ta tick). The same choice as
    /// `sendNextCheck` makes: work that cannot be sent (the transaction table full, Frozen
    /// pairs whose foundation is busy) must not keep the deadline in the past.
    var hasPacedWork: Bool {
        if transactions.contains(where: { !$0.started }) { return true }
        return nextPacedCheck() != nil
    }

    func sendNextCheck(now: Instant) -> Bool {
        guard let next = nextPacedCheck() else { return false }
        switch next {
        case .triggered:
            // Stale entries ahead of the usable one go; the usable one is sent.
            while let p = triggered.pop() {
                guard triggeredCheckUsable(p) else { continue }
                return startCheck(pair: p, useCandidate: pairs[p].nominating, now: now)
            }
            return false
        case .waiting(let p):
            return startCheck(pair: p, useCandidate: false, now: now)
        case .frozen(let p):
            pairs[p].state = .waiting
            return startCheck(pair: p, useCandidate: false, now: now)
        }
    }

    func bestPair(in s: PairState) -> Int? {
        var best: Int? = nil
        for i in pairs.indices where pairs[i].state == s && pairs[i].discoveredFrom == nil && !componentDone(pairs[i].component) {
            if best == nil || pairs[i].priority > pairs[best!].priority { best = i }
        }
        return best
    }

    /// RFC 8445 §8.1.2: once a component is nominated, its other pairs are not checked.
    func componentDone(_ c: UInt8) -> Bool {
        guard let s = components[Int(c) - 1].selected else { return false }
        return pairs[s].nominated
    }

    /// Declares failure when no component can succeed any more (RFC 8445 §8.1.2, RFC 8838 §8).
    func checkFailure(now: Instant) {
        guard state == .checking || state == .new else { return }
        // Marked first, so that the wait stops being a deadline even while gathering holds
        // the verdict back (finishing gathering makes the verdict due again).
        if let last = lastRemoteCandidateAt, now >= last + configuration.remoteCandidateWait { remoteCandidateWaitOver = true }
        // Our own candidates may still come (STUN or TURN gathering): a missing pair is not
        // a failed one yet.
        if externalGatheringPending || (gatheringStarted && !gatheringComplete) { return }
        guard remoteEndOfCandidates || remoteCandidateWaitOver else { return }
        for ci in components.indices {
            if components[ci].selected != nil { continue }
            let c = UInt8(ci + 1)
            let alive = pairs.contains { $0.component == c && $0.state != .failed }
            if !alive && !triggered.contains(where: { pairs[$0].component == c }) {
                setState(.failed)
                return
            }
        }
    }
}
