import Common
import STUN

/// Timers: retransmissions and timeouts of transactions, and when to be called next.
extension Agent {
    /// The time the agent asked for has come (or any later time).
    public func handleTimeout(now: Instant) {
        guard state != .closed else { return }
        // Retransmissions and timeouts of running transactions (not paced: RFC 8445 §14.3).
        var i = 0
        while i < transactions.count {
            guard transactions[i].started, now >= transactions[i].timer.deadline else {
                i += 1
                continue
            }
            switch transactions[i].timer.poll(now: now) {
            case .send:
                if case .check = transactions[i].kind { counters.checkRetransmits += 1 }
                sendTransaction(i)
                i += 1
            case .wait:
                i += 1
            case .timedOut:
                let t = transactions.remove(at: i)
                transactionTimedOut(t, now: now)
            }
        }
        for c in previousSelectionExpiry.indices {
            if let e = previousSelectionExpiry[c], now >= e {
                previousSelection[c] = nil
                previousSelectionExpiry[c] = nil
            }
        }
        consentAndKeepalive(now: now)
        failureCheckDue = false
        checkFailure(now: now)
        pump(now: now)
    }

    func transactionTimedOut(_ t: Transaction, now: Instant) {
        switch t.kind {
        case .gather:
            finishGatheringIfDone()
        case .check(let pair, let useCandidate):
            guard let p = pairs.index(of: pair) else { return }
            if pairs[p].state == .inProgress { pairs[p].state = .failed }
            pairs[p].nominating = false
            if useCandidate {
                // RFC 8445 §8.1.2: a nomination that is never answered fails its pair (and the
                // valid pair it produced); retrying it for ever would hide a peer that is gone.
                let v = validPair(checkedOn: p) ?? p
                pairs[p].state = .failed
                pairs[p].valid = false
                pairs[v].state = .failed
                pairs[v].valid = false
                updateSelection(component: pairs[p].component, now: now)
            }
        case .consent:
            break  // the next consent check retries; expiry is judged by time since last success
        }
    }

    /// When to call `handleTimeout` next; nil when nothing is scheduled.
    public var nextDeadline: Instant? {
        guard state != .closed else { return nil }
        var earliest: Instant? = nil
        func consider(_ t: Instant?) {
            guard let t else { return }
            if earliest == nil || t < earliest! { earliest = t }
        }
        for t in transactions.indices where transactions[t].started { consider(transactions[t].timer.deadline) }
        if !configuration.lite {
            if hasPacedGather { consider(lastGatherSend.map { $0 + configuration.ta } ?? .zero) }
            if hasPacedCheck { consider(lastCheckSend.map { $0 + configuration.ta } ?? .zero) }
        }
        consider(nominationDeadline())
        if failureCheckDue && (state == .checking || state == .new) { consider(.zero) }
        for e in previousSelectionExpiry { consider(e) }
        for c in components where state != .failed {
            guard c.selected != nil else { continue }
            if configuration.consentFreshness && !configuration.lite {
                consider(c.nextConsent)
                if let last = c.lastConsent {
                    let watching = state == .completed || state == .connected
                    consider(watching ? last + Timing.disconnectedAfter : last + Timing.consentTimeout)
                }
            } else if !configuration.lite {
                consider((c.lastKeepalive ?? c.firstValidAt).map { $0 + Timing.keepalive })
            }
        }
        if (state == .checking || state == .new) && !remoteEndOfCandidates && !remoteCandidateWaitOver,
           let last = lastRemoteCandidateAt {
            let due = last + configuration.remoteCandidateWait
            if !pairs.isEmpty { consider(due) }
        }
        return earliest
    }
}
