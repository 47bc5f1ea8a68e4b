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

    /// Adds a pair if compatible (same component and address family) and not already there;
    /// returns its index. New check-list pairs start Frozen, or Waiting if first of their
    /// foundation (§6.1.2.6).
    @discardableResult
    func addPair(local l: Int, remote r: Int, initial: Bool) -> Int? {
        let lc = locals[l], rc = remotes[r]
        guard lc.component == rc.component, lc.address.ip.isIPv4 == rc.address.ip.isIPv4 else { return nil }
        for q in pairs.indices where pairs[q].local == lc.id && pairs[q].remote == rc.id { return q }
        var victim: Int? = nil
        if pairs.isFull {
            // RFC 8445 §6.1.2.5: keep the highest-priority pairs; replace a lower Frozen one.
            // It goes and the new pair is appended, which keeps the table in id order.
            guard let v = lowestFrozenPair(below: pairPriority(local: l, remote: r)) else {
                tableFull(.pairs)
                return nil
            }
            victim = v
        }
        var p = PairEntry(id: PairID(rawValue: pairIDs.take()), local: lc.id, remote: rc.id, component: lc.component,
                          priority: pairPriority(local: l, remote: r))
        if initial {
            var sameFoundationActive = false
            for q in pairs.indices where pairs[q].discoveredFrom == nil && pairs[q].state != .frozen && pairs[q].state != .failed {
                if local(ofPair: q).foundation == lc.foundation && remote(ofPair: q).foundation == rc.foundation {
                    sameFoundationActive = true
                    break
                }
            }
            p.state = sameFoundationActive ? .frozen : .waiting
        }
        if let victim { _ = pairs.remove(at: victim) }
        pairs.append(p)
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
        // Gathering requests go to STUN servers and checks to the peer: each stream is paced
        // by Ta on its own (§5.1.1.2, §6.1.4.2), so two new transactions at most go out per
        // Ta, 40 per second with the default, well under §14.2's ceiling of 200 per second.
        // One shared pacer would hold the first check a whole Ta behind the gathering
        // request the agent sent when it started, on every call with a STUN server.
        if pacerReady(lastGatherSend, now: now), startNextGather(now: now) { lastGatherSend = now }
        if pacerReady(lastCheckSend, now: now), sendNextCheck(now: now) { lastCheckSend = now }
    }

    func pacerReady(_ last: Instant?, now: Instant) -> Bool {
        guard let last else { return true }
        return now >= last + configuration.ta
    }

    /// The pair a triggered-check entry names, if it is still there and still needs a check.
    func usableTriggeredPair(_ id: PairID) -> Int? {
        guard let p = pairs.index(of: id), pairs[p].state != .succeeded else { return nil }
        return p
    }

    func triggeredCheckUsable(_ id: PairID) -> Bool { usableTriggeredPair(id) != nil }

    /// RFC 8445 §6.1.4.2: a triggered check first, else the highest-priority Waiting pair, else
    /// the best Frozen pair whose foundation has nothing Waiting or In-Progress. Nil when
    /// nothing can be sent now, including when no transaction slot is free.
    func nextPacedCheck() -> PacedCheck? {
        guard remoteCredentials != nil, state != .failed, !transactions.isFull else { return nil }
        if let p = triggered.first(where: { triggeredCheckUsable($0) }) { return .triggered(p) }
        if let p = bestPair(in: .waiting) { return .waiting(p) }
        var candidate: Int? = nil
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].discoveredFrom == nil && !componentDone(pairs[i].component) {
            let lf = local(ofPair: i).foundation, rf = remote(ofPair: i).foundation
            // Pairs of a nominated component are never checked again (RFC 8445 §8.1.2), so
            // they do not hold their foundation.
            var busy = false
            for q in pairs.indices where (pairs[q].state == .waiting || pairs[q].state == .inProgress) && !componentDone(pairs[q].component) {
                if local(ofPair: q).foundation == lf && remote(ofPair: q).foundation == rf {
                    busy = true
                    break
                }
            }
            if !busy && (candidate == nil || pairs[i].priority > pairs[candidate!].priority) { candidate = i }
        }
        return candidate.map { .frozen($0) }
    }

    /// Whether each pacer can send something now (so it needs a Ta tick). The same choice as
    /// `startNextGather` and `sendNextCheck` make: work that cannot be sent (the transaction
    /// table full, Frozen pairs whose foundation is busy) must not keep the deadline in the past.
    var hasPacedGather: Bool { transactions.contains(where: { !$0.started }) }
    var hasPacedCheck: Bool { nextPacedCheck() != nil }

    func sendNextCheck(now: Instant) -> Bool {
        guard let next = nextPacedCheck() else { return false }
        switch next {
        case .triggered:
            // Stale entries ahead of the usable one go; the usable one is sent.
            while let id = triggered.pop() {
                guard let p = usableTriggeredPair(id) else { continue }
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
        guard let s = selectedIndex(Int(c) - 1) else { return false }
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
            if !alive && !triggered.contains(where: { id in pairs.index(of: id).map { pairs[$0].component == c } ?? false }) {
                setState(.failed)
                return
            }
        }
    }
}
