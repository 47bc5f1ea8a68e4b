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

/// Datagrams from the network and the peer's checks (RFC 8445 §7.3): authentication, the
/// response, peer-reflexive remote candidates and triggered checks.
extension Agent {
    /// A datagram arrived from `source` on local base `local` (for a relayed candidate: the
    /// relayed address, after the TURN layer unwrapped it).
    @discardableResult
    public func handle(packet: UnsafeRawBufferPointer, from source: TransportAddress, to local: TransportAddress,
                       now: Instant) -> PacketDisposition {
        // RFC 7983 §7: first byte 0-3 is STUN; anything else is for the media path.
        guard let first = packet.first, FirstByteClass(first) == .stun else { return .notSTUN }
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

    func handleRequest(_ m: Message, from source: TransportAddress, to localBase: TransportAddress, now: Instant) -> PacketDisposition {
        guard authenticated(m, from: source, to: localBase) else { return .dropped }
        guard let l = locals.firstIndex(where: { ($0.type == .host || $0.type == .relayed) && $0.base == localBase }) else {
            return .dropped  // not one of our bases
        }

        if rejectedForRoleConflict(m, from: source, to: localBase) { return .stun }

        respondSuccess(m, from: localBase, to: source)

        let component = locals[l].component
        guard let r = remoteCandidate(checking: m, from: source, component: component),
              let p = addPair(local: l, remote: r, initial: false)
        else { return .stun }
        pairs[p].receivedCheck = true
        checkReceived(on: p, useCandidate: m.contains(.useCandidate) && role == .controlled, component: component, now: now)
        return .stun
    }

    /// RFC 8445 §7.3 and RFC 8489 §9.1.3: a Binding request whose USERNAME starts with our
    /// ufrag and whose MESSAGE-INTEGRITY uses our password, with no unknown
    /// comprehension-required attribute; anything else is answered with an error (400, 401,
    /// 420), counted and dropped.
    func authenticated(_ m: Message, from source: TransportAddress, to localBase: TransportAddress) -> Bool {
        guard m.method == .binding else {
            respondError(400, m, from: localBase, to: source, authenticated: false)
            return false
        }
        guard let username = try? m.username(), m.integrityOffset != nil else {
            counters.unauthenticated += 1
            respondError(400, m, from: localBase, to: source, authenticated: false)
            return false
        }
        // RFC 8445 §7.3: USERNAME is "ourUfrag:theirUfrag"; MESSAGE-INTEGRITY uses our password.
        guard usernameStarts(username, with: localCredentials.ufrag), m.checkIntegrity(localCredentials.key) == .ok else {
            counters.unauthenticated += 1
            respondError(401, m, from: localBase, to: source, authenticated: false)
            return false
        }
        if !m.unknownComprehensionRequired.isEmpty {
            respondError(420, m, from: localBase, to: source, authenticated: true)
            return false
        }
        return true
    }

    /// The remote candidate a check came from; an unknown source is a peer-reflexive one,
    /// learned with the check's PRIORITY (RFC 8445 §7.3.1.3). Nil when the table is full.
    func remoteCandidate(checking m: Message, from source: TransportAddress, component: UInt8) -> Int? {
        if let r = remotes.firstIndex(where: { $0.address == source && $0.component == component }) { return r }
        let priority = (try? m.priority()) ?? Candidate.priority(type: .peerReflexive, localPreference: 0, component: component)
        let prflx = Candidate(type: .peerReflexive, component: component, priority: priority,
                              foundation: Foundation(number: 100_000 + remotes.count), address: source)
        guard insert(prflx, into: &remotes) != nil else {
            tableFull(.remoteCandidates)
            return nil
        }
        if state == .new { setState(.checking) }
        return remotes.count - 1
    }

    /// What a check received on pair `p` does: a triggered check (RFC 8445 §7.3.1.4) and,
    /// with USE-CANDIDATE from the controlling peer, nomination (§7.3.1.5).
    func checkReceived(on p: Int, useCandidate: Bool, component: UInt8, now: Instant) {
        if configuration.lite {
            // RFC 8445 §7.3.2 (lite): a request with USE-CANDIDATE nominates the pair; lite
            // agents do no checks of their own, so the pair is valid by the peer's check.
            pairs[p].state = .succeeded
            pairs[p].valid = true
            if useCandidate { pairs[p].nominated = true }
            updateSelection(component: component, now: now)
            return
        }
        switch pairs[p].state {
        case .succeeded:
            break
        case .frozen, .waiting, .failed, .inProgress:
            if pairs[p].state == .inProgress { resendOutstandingCheck(pair: p, now: now) }
            if pairs[p].state != .inProgress { pairs[p].state = .waiting }
            let id = pairs[p].id
            if !triggered.contains(where: { $0 == id }) && !triggered.push(id) { tableFull(.triggeredQueue) }
        }
        guard useCandidate else { return }
        if let v = validPair(checkedOn: p) {
            if !pairs[v].nominated {
                pairs[v].nominated = true
                updateSelection(component: component, now: now)
            }
        } else {
            pairs[p].nominateOnSuccess = true
        }
    }

    /// The peer's check on a pair whose own check is In-Progress shows the path open in both
    /// directions now: its NAT or its TURN server's permission (RFC 8656 §9) has let the
    /// peer's request out towards us, so ours, most likely dropped before that, would pass.
    /// RFC 8445 §7.3.1.4 queues a triggered check, a new transaction that waits for the next
    /// Ta tick; the outstanding request is sent again at once instead, the same transaction
    /// (a retransmission, not paced by Ta: §14.3), at most once per transaction so a peer's
    /// checks cannot make us send more than they do. The triggered check stays queued in case
    /// this copy is lost too.
    func resendOutstandingCheck(pair p: Int, now: Instant) {
        let id = pairs[p].id
        guard let t = transactions.firstIndex(where: { t in
            if case .check(let pair, _) = t.kind { return pair == id && !t.hurried }
            return false
        }) else { return }
        transactions[t].hurried = true
        // The copy that gets through is most likely this one: round trips count from it.
        transactions[t].firstSent = now
        counters.checkRetransmits += 1
        sendTransaction(t)
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
}
