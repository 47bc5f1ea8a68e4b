import Common
import STUN

/// What `handle(packet:)` did with a datagram.
public enum PacketDisposition: Equatable, Sendable {
    /// A STUN message for the agent, processed.
    case stun
    /// Not STUN (RFC 7983: RTP/RTCP, DTLS...): the caller routes it as media.
    case notSTUN
    /// STUN, but dropped: malformed, unauthenticated, or not ours. Counted.
    case dropped
}

extension Agent {
    /// A datagram arrived from `source` on local base `local` (for a relayed candidate: the
    /// relayed address, after the TURN layer unwrapped it).
    @discardableResult
    public func handle(packet: UnsafeRawBufferPointer, from source: TransportAddress, to local: TransportAddress,
                       now: Instant) -> PacketDisposition {
        // RFC 7983 §7: first byte 0-3 is STUN; anything else is for the media path.
        guard let first = packet.first, first < 4 else { return .notSTUN }
        guard state != .closed else { return .dropped }
        let m: Message
        do throws(ParseError) {
            m = try Message(parsing: packet)
        } catch {
            counters.malformed += 1
            return .dropped
        }
        // RFC 8445 §7.2.2/7.3: ICE messages carry FINGERPRINT; a wrong one means not ours.
        guard !m.isClassic, m.checkFingerprint() != .bad else {
            counters.malformed += 1
            return .dropped
        }
        let d: PacketDisposition
        switch m.messageClass {
        case .request: d = handleRequest(m, from: source, to: local, now: now)
        case .indication: d = .stun  // Binding indications are keepalives (RFC 8445 §11)
        case .successResponse, .errorResponse: d = handleResponse(m, from: source, to: local, now: now)
        }
        pump(now: now)
        return d
    }

    // MARK: Requests (RFC 8445 §7.3)

    func handleRequest(_ m: Message, from source: TransportAddress, to localBase: TransportAddress, now: Instant) -> PacketDisposition {
        guard m.method == .binding else {
            respondError(400, m, from: localBase, to: source, authenticated: false)
            return .dropped
        }
        guard let username = try? m.username(), m.integrityOffset != nil else {
            counters.unauthenticated += 1
            respondError(400, m, from: localBase, to: source, authenticated: false)
            return .dropped
        }
        // RFC 8445 §7.3: USERNAME is "ourUfrag:theirUfrag"; MESSAGE-INTEGRITY uses our password.
        guard usernameStarts(username, with: localCredentials.ufrag), m.checkIntegrity(localCredentials.key) == .ok else {
            counters.unauthenticated += 1
            respondError(401, m, from: localBase, to: source, authenticated: false)
            return .dropped
        }
        if !m.unknownComprehensionRequired.isEmpty {
            respondError(420, m, from: localBase, to: source, authenticated: true)
            return .dropped
        }
        guard let l = locals.firstIndex(where: { ($0.type == .host || $0.type == .relayed) && $0.base == localBase }) else {
            return .dropped  // not one of our bases
        }

        // RFC 8445 §7.3.1.1: role conflicts.
        if role == .controlling, let theirs = try? m.uint64(.iceControlling) {
            counters.roleConflicts += 1
            if tieBreaker >= theirs {
                respondError(487, m, from: localBase, to: source, authenticated: true)
                return .stun
            }
            setRole(.controlled)
        } else if role == .controlled, let theirs = try? m.uint64(.iceControlled) {
            counters.roleConflicts += 1
            if tieBreaker >= theirs {
                setRole(.controlling)
            } else {
                respondError(487, m, from: localBase, to: source, authenticated: true)
                return .stun
            }
        }

        respondSuccess(m, from: localBase, to: source)

        // RFC 8445 §7.3.1.3: an unknown source is a peer-reflexive remote candidate.
        let component = locals[l].component
        var r = remotes.firstIndex(where: { $0.address == source && $0.component == component })
        if r == nil {
            let priority = (try? m.priority()) ?? Candidate.priority(type: .peerReflexive, localPreference: 0, component: component)
            let prflx = Candidate(type: .peerReflexive, component: component, priority: priority,
                                  foundation: Foundation(number: 100_000 + remotes.count), address: source)
            guard remotes.append(prflx) else {
                tableFull(.remoteCandidates)
                return .stun
            }
            r = remotes.count - 1
            if state == .new { setState(.checking) }
        }
        guard let r, let p = addPair(local: l, remote: r, initial: false) else { return .stun }
        pairs[p].receivedCheck = true

        let useCandidate = m.contains(.useCandidate) && role == .controlled
        if configuration.lite {
            // RFC 8445 §7.3.2 (lite): a request with USE-CANDIDATE nominates the pair; lite
            // agents do no checks of their own, so the pair is valid by the peer's check.
            pairs[p].state = .succeeded
            pairs[p].valid = true
            if useCandidate { pairs[p].nominated = true }
            updateSelection(component: component, now: now)
            return .stun
        }
        // RFC 8445 §7.3.1.4: triggered check.
        switch pairs[p].state {
        case .succeeded:
            break
        case .frozen, .waiting, .failed, .inProgress:
            if pairs[p].state != .inProgress { pairs[p].state = .waiting }
            if !triggered.contains(where: { $0 == p }) && !triggered.push(p) { tableFull(.triggeredQueue) }
        }
        // RFC 8445 §7.3.1.5: nomination by the controlling peer.
        if useCandidate {
            if let v = validPair(checkedOn: p) {
                if !pairs[v].nominated {
                    pairs[v].nominated = true
                    updateSelection(component: component, now: now)
                }
            } else {
                pairs[p].nominateOnSuccess = true
            }
        }
        return .stun
    }

    /// The valid pair produced by a successful check on pair `p` (itself or a discovered one).
    func validPair(checkedOn p: Int) -> Int? {
        if pairs[p].valid { return p }
        return pairs.firstIndex { $0.discoveredFrom == p && $0.valid }
    }

    func usernameStarts(_ username: UnsafeRawBufferPointer, with ufrag: [UInt8]) -> Bool {
        guard username.count > ufrag.count, username[ufrag.count] == 0x3A else { return false }
        for i in 0..<ufrag.count where username[i] != ufrag[i] { return false }
        return true
    }

    func respondSuccess(_ m: Message, from local: TransportAddress, to source: TransportAddress) {
        let id = m.transactionID
        let key = localCredentials.key
        let software = configuration.software
        let ok = queue(from: local, to: source) { buf in
            do throws(BuildError) {
                var b = try MessageBuilder(into: buf, type: .bindingSuccess, transactionID: id)
                try b.append(.xorMappedAddress, xorAddress: source)
                if software.utf8CodeUnitCount > 0 { try b.append(.software, text: software) }
                try b.appendMessageIntegrity(key)
                try b.appendFingerprint()
                return b.count
            } catch { return 0 }
        }
        if ok { counters.responsesSent += 1 }
    }

    func respondError(_ code: Int, _ m: Message, from local: TransportAddress, to source: TransportAddress, authenticated: Bool) {
        let id = m.transactionID
        let method = m.method
        let key = localCredentials.key
        queue(from: local, to: source) { buf in
            do throws(BuildError) {
                var b = try MessageBuilder(into: buf, type: MessageType(method, .errorResponse), transactionID: id)
                try b.appendErrorCode(code)
                if code == 420 { try b.appendUnknownAttributes(m.unknownComprehensionRequired) }
                if authenticated { try b.appendMessageIntegrity(key) }
                try b.appendFingerprint()
                return b.count
            } catch { return 0 }
        }
    }

    // MARK: Responses (RFC 8445 §7.2.5)

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
            handleCheckResponse(m, pair: p, useCandidate: useCandidate, sentRole: tx.role, from: source, to: local, now: now)
            return .stun
        case .consent(let component, let p):
            guard let key = remoteCredentials?.key, m.checkIntegrity(key) == .ok else {
                counters.unauthenticated += 1
                return .dropped
            }
            _ = transactions.remove(at: t)
            if m.messageClass == .successResponse && source == remotes[pairs[p].remote].address {
                let ci = Int(component) - 1
                components[ci].lastConsent = now
                if state == .disconnected { updateState() }
            }
            return .stun
        }
    }

    func handleCheckResponse(_ m: Message, pair p: Int, useCandidate: Bool, sentRole: Role,
                             from source: TransportAddress, to localBase: TransportAddress, now: Instant) {
        guard p < pairs.count else { return }
        let component = pairs[p].component
        if m.messageClass == .errorResponse {
            let code = (try? m.errorCode())?.code
            if code == ErrorCode.roleConflict {
                // RFC 8445 §7.2.5.1: switch role (once per conflict) and retry the check.
                counters.roleConflicts += 1
                if sentRole == role { setRole(role == .controlling ? .controlled : .controlling) }
                pairs[p].state = .waiting
                pairs[p].nominating = false
                if !triggered.push(p) { tableFull(.triggeredQueue) }
            } else {
                pairs[p].state = .failed
                pairs[p].nominating = false
            }
            checkFailure(now: now)
            return
        }
        let local = locals[pairs[p].local], remote = remotes[pairs[p].remote]
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
        var v = p
        if let l, l != pairs[p].local {
            // RFC 8445 §7.2.5.3.2: the valid pair is (mapped local, remote), maybe a new pair.
            if let existing = pairs.firstIndex(where: { $0.local == l && $0.remote == pairs[p].remote }) {
                v = existing
            } else if let added = addPair(local: l, remote: pairs[p].remote, initial: false) {
                v = added
                pairs[v].discoveredFrom = p
            }
            pairs[v].state = .succeeded
        }
        pairs[v].valid = true
        // RFC 8445 §7.2.5.3.3: unfreeze pairs of the same foundation.
        let lf = local.foundation, rf = remote.foundation
        for q in pairs.indices where pairs[q].state == .frozen
            && locals[pairs[q].local].foundation == lf && remotes[pairs[q].remote].foundation == rf {
            pairs[q].state = .waiting
        }
        // RFC 8445 §7.2.5.3.4 / §7.3.1.5: nomination completes.
        if (useCandidate && sentRole == .controlling) || (pairs[p].nominateOnSuccess && role == .controlled) {
            pairs[v].nominated = true
        }
        if useCandidate { pairs[p].nominating = false }
        updateSelection(component: component, now: now)
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
