import Common
import STUN

/// Regular nomination by the controlling agent (RFC 8445 §8.1.1): when the best valid
/// pair is nominated, and the USE-CANDIDATE check that does it.
extension Agent {
    /// Controlling agent, regular nomination (RFC 8445 §8.1.1, which leaves the timing to the
    /// agent): nominate the best valid pair once no better pair can still succeed. A better
    /// pair still counts while it is Frozen or Waiting, or In-Progress for less than
    /// `patience` (3 x the round trip measured on valid pairs, at least Ta) since its first
    /// check: checks to unreachable private addresses never answer, and waiting out their RFC
    /// 8489 schedule would cost seconds. `nominationDelay` after the first valid pair is the cap.
    func decideNominations(now: Instant) {
        guard role == .controlling, !configuration.lite, state != .failed else { return }
        for ci in components.indices {
            guard let due = nominationDue(component: ci, now: now), due <= now,
                  let best = selectedIndex(ci), let checked = checkedPair(of: best) else { continue }
            pairs[checked].nominating = true
        }
    }

    /// The pair whose check made pair `v` valid: itself, or the pair it was discovered from
    /// (nil if that one is gone).
    func checkedPair(of v: Int) -> Int? {
        guard let from = pairs[v].discoveredFrom else { return v }
        return pairs.index(of: from)
    }

    var patience: Interval {
        max(configuration.ta, (measuredRTT ?? Timing.minimumCheckRTO) * 3)
    }

    /// When component `ci`'s best valid pair should be nominated (nil: nothing to nominate).
    /// One pair per component: once a nomination is under way or done, no other follows
    /// (RFC 8445 §8.1.1), though a better pair may become valid later.
    /// A relayed best pair waits longer while a better direct one is in progress: for that
    /// check's first retransmission (its own RTO, RFC 8445 §14.3) plus `patience`, at most
    /// twice `nominationDelay` after the relay became valid. The peer's NAT may have dropped
    /// the direct checks before the peer's own checks opened its filter (RFC 4787 §5), while
    /// the relay, whose permission covers the peer's whole IP (RFC 8656 §9), passed at once;
    /// the retransmissions, and the peer-reflexive pair a symmetric peer's retransmitted check
    /// brings, get their chance. A relay costs the TURN server the call's whole stream.
    func nominationDue(component ci: Int, now: Instant) -> Instant? {
        guard let best = selectedIndex(ci), checkedPair(of: best) != nil,
              let firstValid = components[ci].firstValidAt else { return nil }
        let c = UInt8(ci + 1)
        // The best pair and the pair whose check made it valid are among these.
        for q in pairs where q.component == c && (q.nominated || q.nominating) { return nil }
        let relayed = isRelayed(best)
        let delay = configuration.nominationDelay
        let cap = relayed ? firstValid + delay + delay : firstValid + delay
        var due = now
        for i in pairs.indices where pairs[i].component == c && pairs[i].discoveredFrom == nil && pairs[i].priority > pairs[best].priority {
            let q = pairs[i]
            switch q.state {
            case .frozen, .waiting:
                return cap  // not even tried yet
            case .inProgress:
                let since = q.inProgressSince ?? now
                let giveUp = relayed && !isRelayed(i) ? since + checkRTO(q.id) + patience : since + patience
                if giveUp > due { due = giveUp }
            case .succeeded, .failed:
                break
            }
        }
        return min(due, cap)
    }

    /// The retransmission timeout of the pair's check in flight (the minimum when none is).
    func checkRTO(_ id: PairID) -> Interval {
        for t in transactions {
            if case .check(let pair, _) = t.kind, pair == id { return t.timer.rto }
        }
        return Timing.minimumCheckRTO
    }

    /// Whether pair `p` goes through a TURN relay on either side.
    func isRelayed(_ p: Int) -> Bool {
        local(ofPair: p).type == .relayed || remote(ofPair: p).type == .relayed
    }

    /// Time at which a pending nomination becomes due (for `nextDeadline`).
    func nominationDeadline() -> Instant? {
        guard role == .controlling, !configuration.lite, state != .failed else { return nil }
        var earliest: Instant? = nil
        for ci in components.indices {
            guard let due = nominationDue(component: ci, now: .zero) else { continue }
            if earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    func sendPendingNominations(now: Instant) {
        for p in pairs.indices where pairs[p].nominating && pairs[p].state == .succeeded {
            let id = pairs[p].id
            let outstanding = transactions.contains { t in
                if case .check(let q, true) = t.kind { return q == id }
                return false
            }
            if !outstanding { _ = startCheck(pair: p, useCandidate: true, now: now) }
        }
    }
}
