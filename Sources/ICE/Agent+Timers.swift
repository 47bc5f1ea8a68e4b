import Common
import STUN

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
        case .check(let p, let useCandidate):
            guard p < pairs.count else { return }
            if pairs[p].state == .inProgress { pairs[p].state = .failed }
            pairs[p].nominating = false
            if useCandidate {
                // RFC 8445 §8.1.2: a nomination that is never answered fails its pair (and the
                // valid pair it produced); retrying it for ever would hide a peer that is gone.
                let v = validPair(checkedOn: p) ?? p
                for q in [p, v] {
                    pairs[q].state = .failed
                    pairs[q].valid = false
                }
                updateSelection(component: pairs[p].component, now: now)
            }
        case .consent:
            break  // the next consent check retries; expiry is judged by time since last success
        }
    }

    func consentInterval() -> Interval {
        // RFC 7675 §5.1: uniformly random in [0.8, 1.2] x 5 s.
        let base = Timing.consentBase.nanoseconds
        let jitter = Int64(random.next() % UInt64(base * 2 / 5 + 1))
        return Interval(nanoseconds: base * 4 / 5 + jitter)
    }

    /// RFC 7675 consent freshness on the selected pair of each component (nominated or not:
    /// whatever media may use), or RFC 8445 §11 keepalives.
    func consentAndKeepalive(now: Instant) {
        guard state != .failed else { return }  // consent is over; a restart starts it again
        for ci in components.indices {
            guard let s = components[ci].selected else { continue }
            if configuration.consentFreshness && !configuration.lite {
                if let last = components[ci].lastConsent {
                    if now >= last + Timing.consentTimeout {
                        setState(.failed)
                        continue
                    }
                    if now >= last + Timing.disconnectedAfter && (state == .completed || state == .connected) {
                        setState(.disconnected)
                    }
                    if state == .disconnected && now < last + Timing.disconnectedAfter { updateState() }
                }
                if let next = components[ci].nextConsent, now >= next {
                    components[ci].nextConsent = now + consentInterval()
                    let t = Transaction(id: TransactionID(random: &random), kind: .consent(component: UInt8(ci + 1), pair: s),
                                        timer: Retransmission(now: now, rto: Timing.consentBase, maxSends: 1, lastWaitFactor: 1),
                                        started: true, role: role)
                    if transactions.append(t) {
                        let k = transactions.count - 1
                        _ = transactions[k].timer.poll(now: now)
                        sendTransaction(k)
                    } else {
                        tableFull(.transactions)
                    }
                }
            } else if !configuration.lite {
                let last = components[ci].lastKeepalive ?? components[ci].firstValidAt ?? now
                if now >= last + Timing.keepalive {
                    components[ci].lastKeepalive = now
                    sendKeepalive(pair: s)
                }
            }
        }
    }

    /// RFC 8445 §11: a Binding indication with FINGERPRINT keeps NAT bindings open.
    func sendKeepalive(pair p: Int) {
        let local = locals[pairs[p].local], remote = remotes[pairs[p].remote]
        let id = TransactionID(random: &random)
        queue(from: local.base, to: remote.address) { buf in
            guard var b = try? MessageBuilder(into: buf, type: .bindingIndication, transactionID: id),
                  (try? b.appendFingerprint()) != nil else { return 0 }
            return b.count
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
        if !configuration.lite && hasPacedWork {
            consider(lastPacedSend.map { $0 + configuration.ta } ?? .zero)
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

    /// Whether the pacer can send something now (so it needs a Ta tick). The same choice as
    /// `sendNextCheck` makes: work that cannot be sent (the transaction table full, Frozen
    /// pairs whose foundation is busy) must not keep the deadline in the past.
    var hasPacedWork: Bool {
        if transactions.contains(where: { !$0.started }) { return true }
        return nextPacedCheck() != nil
    }
}
