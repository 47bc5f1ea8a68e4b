import Common
import STUN

extension Agent {
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

    func startNextGather(now: Instant) -> Bool {
        guard let t = transactions.firstIndex(where: { !$0.started }) else { return false }
        transactions[t].started = true
        transactions[t].timer = Retransmission(now: now, rto: Timing.minimumCheckRTO, maxSends: Timing.maxSends,
                                               lastWaitFactor: Timing.lastWaitFactor)
        _ = transactions[t].timer.poll(now: now)
        sendTransaction(t)
        return true
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

    func sendPendingNominations(now: Instant) {
        for p in pairs.indices where pairs[p].nominating && pairs[p].state == .succeeded {
            let outstanding = transactions.contains { t in
                if case .check(let q, true) = t.kind { return q == p }
                return false
            }
            if !outstanding { _ = startCheck(pair: p, useCandidate: true, now: now) }
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

    func startCheck(pair p: Int, useCandidate: Bool, now: Instant) -> Bool {
        // RFC 8445 §14.3: RTO = MAX(500 ms, Ta * (Waiting + In-Progress pairs)).
        var active: Int64 = 0
        for q in pairs.indices where pairs[q].state == .waiting || pairs[q].state == .inProgress { active += 1 }
        let rto = max(Timing.minimumCheckRTO, configuration.ta * active)
        let t = Transaction(id: TransactionID(random: &random), kind: .check(pair: p, useCandidate: useCandidate),
                            timer: Retransmission(now: now, rto: rto, maxSends: Timing.maxSends, lastWaitFactor: Timing.lastWaitFactor),
                            started: true, role: role, firstSent: now)
        guard transactions.append(t) else {
            tableFull(.transactions)
            return false
        }
        if pairs[p].state != .succeeded { pairs[p].state = .inProgress }
        if pairs[p].firstCheckAt == nil { pairs[p].firstCheckAt = now }
        let i = transactions.count - 1
        _ = transactions[i].timer.poll(now: now)
        counters.checksSent += 1
        sendTransaction(i)
        return true
    }

    /// (Re)builds and queues the request of transaction `i`; the same id on every send.
    func sendTransaction(_ i: Int) {
        let t = transactions[i]
        switch t.kind {
        case .gather(let base, let server):
            queue(from: base, to: server) { buf in
                guard var b = try? MessageBuilder(into: buf, type: .bindingRequest, transactionID: t.id),
                      (try? b.appendFingerprint()) != nil else { return 0 }
                return b.count
            }
        case .check(let p, let useCandidate):
            sendBindingRequest(pair: p, id: t.id, useCandidate: useCandidate, role: t.role)
        case .consent(_, let p):
            sendBindingRequest(pair: p, id: t.id, useCandidate: false, role: t.role)
        }
    }

    /// Builds a datagram into the transmit ring with `write` (which returns its length, 0 if
    /// it did not fit) and queues it; false when the ring refused it (full, or oversize),
    /// which is counted: the STUN retransmission timers recover (RFC 8489 §6.2.1).
    @discardableResult
    func queue(from source: TransportAddress, to destination: TransportAddress,
               _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        do throws(DatagramRingError) {
            try transmits.enqueue(from: source, to: destination, write)
            return true
        } catch {
            counters.transmitDropped += 1
            return false
        }
    }

    /// RFC 8445 §7.2.4: USERNAME, PRIORITY (as peer-reflexive), ICE-CONTROLLING or
    /// ICE-CONTROLLED with the tie-breaker, USE-CANDIDATE when nominating,
    /// MESSAGE-INTEGRITY with the remote password, FINGERPRINT.
    func sendBindingRequest(pair p: Int, id: TransactionID, useCandidate: Bool, role sentRole: Role) {
        guard let remoteCredentials else { return }
        let local = locals[pairs[p].local]
        let remote = remotes[pairs[p].remote]
        let localUfrag = localCredentials.ufrag
        let tieBreaker = tieBreaker
        queue(from: local.base, to: remote.address) { buf in
            do throws(BuildError) {
                var b = try MessageBuilder(into: buf, type: .bindingRequest, transactionID: id)
                let u = try b.reserve(.username, length: remoteCredentials.ufrag.count + 1 + localUfrag.count)
                writeUsername(u, remoteCredentials.ufrag, localUfrag)
                try b.append(.priority, uint32: Candidate.priority(type: .peerReflexive, localPreference: local.localPreference,
                                                                   component: local.component))
                try b.append(sentRole == .controlling ? .iceControlling : .iceControlled, uint64: tieBreaker)
                if useCandidate && sentRole == .controlling { try b.appendFlag(.useCandidate) }
                try b.appendMessageIntegrity(remoteCredentials.key)
                try b.appendFingerprint()
                return b.count
            } catch {
                return 0
            }
        }
    }

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
                  let best = components[ci].selected else { continue }
            pairs[pairs[best].discoveredFrom ?? best].nominating = true
        }
    }

    var patience: Interval {
        max(configuration.ta, (measuredRTT ?? Timing.minimumCheckRTO) * 3)
    }

    /// When component `ci`'s best valid pair should be nominated (nil: nothing to nominate).
    func nominationDue(component ci: Int, now: Instant) -> Instant? {
        guard let best = components[ci].selected, !pairs[best].nominated,
              !pairs[pairs[best].discoveredFrom ?? best].nominating,
              let firstValid = components[ci].firstValidAt else { return nil }
        let c = UInt8(ci + 1)
        let cap = firstValid + configuration.nominationDelay
        var due = now
        for q in pairs where q.component == c && q.discoveredFrom == nil && q.priority > pairs[best].priority {
            switch q.state {
            case .frozen, .waiting:
                return cap  // not even tried yet
            case .inProgress:
                let giveUp = (q.firstCheckAt ?? now) + patience
                if giveUp > due { due = giveUp }
            case .succeeded, .failed:
                break
            }
        }
        return min(due, cap)
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
}

/// Writes "remote:local" into a USERNAME slot (RFC 8445 §7.2.2).
func writeUsername(_ slot: UnsafeMutableRawBufferPointer, _ first: [UInt8], _ second: [UInt8]) {
    var k = 0
    for byte in first { slot[k] = byte; k += 1 }
    slot[k] = 0x3A
    k += 1
    for byte in second { slot[k] = byte; k += 1 }
}
