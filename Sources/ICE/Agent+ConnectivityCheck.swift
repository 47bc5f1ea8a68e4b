import Common
import STUN

/// Our connectivity checks (RFC 8445 §7.2): the Binding request, and what its response
/// makes of the pair (valid pair, peer-reflexive candidate, unfreezing, nomination).
extension Agent {
    func startCheck(pair p: Int, useCandidate: Bool, now: Instant) -> Bool {
        // RFC 8445 §14.3: RTO = MAX(500 ms, Ta * (Waiting + In-Progress pairs)).
        var active: Int64 = 0
        for q in pairs.indices where pairs[q].state == .waiting || pairs[q].state == .inProgress { active += 1 }
        let rto = max(Timing.minimumCheckRTO, configuration.ta * active)
        let t = Transaction(id: TransactionID(random: &random), kind: .check(pair: pairs[p].id, useCandidate: useCandidate),
                            timer: Retransmission(now: now, rto: rto, maxSends: Timing.maxSends, lastWaitFactor: Timing.lastWaitFactor),
                            started: true, role: role, firstSent: now)
        guard transactions.append(t) else {
            tableFull(.transactions)
            return false
        }
        // Patience (nomination) counts from the check that put the pair In-Progress this
        // time: a pair back from Waiting (a role conflict, a triggered check) starts afresh.
        if pairs[p].state != .inProgress || pairs[p].inProgressSince == nil { pairs[p].inProgressSince = now }
        if pairs[p].state != .succeeded { pairs[p].state = .inProgress }
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
        case .check(let pair, let useCandidate):
            guard let p = pairs.index(of: pair) else { return }
            sendBindingRequest(pair: p, id: t.id, useCandidate: useCandidate, role: t.role)
        case .consent(_, let pair):
            guard let p = pairs.index(of: pair) else { return }
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
        let local = self.local(ofPair: p)
        let remote = self.remote(ofPair: p)
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

    func handleResponse(_ m: Message, from source: TransportAddress, to local: TransportAddress, now: Instant) -> PacketDisposition {
        guard let t = transactions.firstIndex(where: { $0.id == m.transactionID }) else {
            counters.unknownTransaction += 1
            return .dropped
        }
        let tx = transactions[t]
        switch tx.kind {
        case .gather(let base, let server):
            guard source == server, local == base else { return .dropped }
            handleGatherResponse(m, transaction: t, base: base, server: server, now: now)
            return .stun
        case .check(let p, let useCandidate):
            guard let key = remoteCredentials?.key, m.checkIntegrity(key) == .ok else {
                counters.unauthenticated += 1
                return .dropped  // RFC 8445 §7.2.5.1 via RFC 8489: discard, keep waiting
            }
            _ = transactions.remove(at: t)
            if m.messageClass == .successResponse && tx.timer.sends == 1 {
                // Only unambiguous samples: a retransmitted request's response may answer any send.
                let rtt = now - tx.firstSent
                if measuredRTT == nil || rtt < measuredRTT! { measuredRTT = rtt }
            }
            guard let p = pairs.index(of: p) else { return .stun }
            handleCheckResponse(m, pair: p, useCandidate: useCandidate, sentRole: tx.role, from: source, to: local, now: now)
            return .stun
        case .consent(let component, let p):
            guard let key = remoteCredentials?.key, m.checkIntegrity(key) == .ok else {
                counters.unauthenticated += 1
                return .dropped
            }
            _ = transactions.remove(at: t)
            guard let p = pairs.index(of: p) else { return .stun }
            handleConsentResponse(m, component: component, pair: p, from: source, now: now)
            return .stun
        }
    }

    func handleCheckResponse(_ m: Message, pair p: Int, useCandidate: Bool, sentRole: Role,
                             from source: TransportAddress, to localBase: TransportAddress, now: Instant) {
        let component = pairs[p].component
        if m.messageClass == .errorResponse {
            let code = (try? m.errorCode())?.code
            if code == ErrorCode.roleConflict {
                retryAfterRoleConflict(pair: p, sentRole: sentRole)
            } else {
                pairs[p].state = .failed
                pairs[p].nominating = false
            }
            checkFailure(now: now)
            return
        }
        let local = self.local(ofPair: p), remote = self.remote(ofPair: p)
        // RFC 8445 §7.2.5.2.1: the response must come back on the same 5-tuple.
        guard source == remote.address, localBase == local.base else {
            pairs[p].state = .failed
            checkFailure(now: now)
            return
        }
        guard let mapped = try? m.mappedAddress() else {
            pairs[p].state = .failed
            checkFailure(now: now)
            return
        }
        // RFC 8445 §7.2.5.3.1: the mapped address names the local candidate of the valid
        // pair; an unknown one is a new peer-reflexive candidate (priority as sent).
        var l = locals.firstIndex { $0.address == mapped && $0.component == component }
        if l == nil {
            let pref = local.localPreference
            if let c = try? addLocal(type: .peerReflexive, component: component, address: mapped, base: local.base,
                                     related: nil, server: nil, localPreference: pref) {
                _ = c
                l = locals.count - 1
            }
        }
        pairs[p].state = .succeeded
        var p = p
        var v = p
        if let l, locals[l].id != pairs[p].local {
            // RFC 8445 §7.2.5.3.2: the valid pair is (mapped local, remote), maybe a new pair.
            let checked = pairs[p].id, localID = locals[l].id, remoteID = pairs[p].remote
            if let existing = pairs.firstIndex(where: { $0.local == localID && $0.remote == remoteID }) {
                v = existing
            } else if let added = addPair(local: l, remote: remotes.index(of: remoteID)!, initial: false) {
                // Adding may have replaced a Frozen pair (never the checked one, which
                // succeeded), moving the pairs after it.
                v = added
                p = pairs.index(of: checked)!
                pairs[v].discoveredFrom = checked
            }
            pairs[v].state = .succeeded
        }
        pairs[v].valid = true
        // RFC 8445 §7.2.5.3.3: unfreeze pairs of the same foundation.
        let lf = local.foundation, rf = remote.foundation
        for q in pairs.indices where pairs[q].state == .frozen
            && self.local(ofPair: q).foundation == lf && self.remote(ofPair: q).foundation == rf {
            pairs[q].state = .waiting
        }
        // RFC 8445 §7.2.5.3.4 / §7.3.1.5: nomination completes.
        if (useCandidate && sentRole == .controlling) || (pairs[p].nominateOnSuccess && role == .controlled) {
            pairs[v].nominated = true
        }
        if useCandidate { pairs[p].nominating = false }
        updateSelection(component: component, now: now)
    }

    /// The valid pair produced by a successful check on pair `p` (itself or a discovered one).
    func validPair(checkedOn p: Int) -> Int? {
        if pairs[p].valid { return p }
        let id = pairs[p].id
        return pairs.firstIndex { $0.discoveredFrom == id && $0.valid }
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
