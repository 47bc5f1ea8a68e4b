import Common
import STUN

extension TURNClient {
    /// A datagram (or, on TCP/TLS, one frame from the `StreamReassembler`) arrived from
    /// `source`. Relayed data comes back as `.data` (a view into `packet`); responses are
    /// processed; anything malformed or unauthenticated is dropped and counted.
    @discardableResult
    public func handle(packet: UnsafeRawBufferPointer, from source: TransportAddress, now: Instant) -> TURNInput {
        guard source == server else { return .notFromServer }
        guard state != .idle && state != .closed && state != .failed else { return drop(.unexpected) }
        guard let first = packet.first else { return drop(.malformed) }
        if FirstByteClass(first) == .turnChannel { return handleChannelData(packet) }
        guard first < 0x40 else { return drop(.malformed) }
        let m: Message
        do throws(ParseError) {
            m = try Message(parsing: packet)
        } catch {
            return drop(.malformed)
        }
        guard !m.isClassic, m.checkFingerprint() != .bad else { return drop(.malformed) }
        switch m.messageClass {
        case .indication:
            guard m.method == .data else { return drop(.unexpected) }
            return handleDataIndication(m)
        case .request:
            return drop(.unexpected)
        case .successResponse, .errorResponse:
            return handleResponse(m, now: now)
        }
    }

    func drop(_ reason: TURNDrop) -> TURNInput {
        switch reason {
        case .malformed: counters.malformed += 1
        case .unauthenticated: counters.unauthenticated += 1
        case .unknownTransaction: counters.unknownTransaction += 1
        case .unboundChannel: counters.unboundChannel += 1
        case .noPermission: counters.noPermission += 1
        case .unexpected: counters.unexpected += 1
        }
        return .dropped(reason)
    }

    // MARK: Relayed data

    /// RFC 8656 §12.6: ChannelData on a channel we asked for (the server may use it as soon
    /// as it has processed our ChannelBind, before we see the response).
    func handleChannelData(_ packet: UnsafeRawBufferPointer) -> TURNInput {
        let cd: ChannelData
        do throws(ChannelDataError) {
            cd = try ChannelData(parsing: packet)
        } catch {
            return drop(.malformed)
        }
        guard state == .allocated, let i = channelIndex(number: cd.channel) else { return drop(.unboundChannel) }
        counters.channelDataReceived += 1
        return .data(from: channels[i].peer, bytes: cd.payload)
    }

    /// RFC 8656 §11.6: XOR-PEER-ADDRESS and DATA must be present; data from a peer we hold
    /// no permission for is discarded.
    func handleDataIndication(_ m: Message) -> TURNInput {
        guard let peerValue = m.value(.xorPeerAddress), let data = m.value(.data),
              let peer = try? decodeXORAddress(peerValue, transactionID: m.transactionID)
        else { return drop(.malformed) }
        guard state == .allocated, permissionIndex(peer.ip) != nil else { return drop(.noPermission) }
        counters.dataIndicationsReceived += 1
        return .data(from: peer, bytes: data)
    }

    // MARK: Responses

    func handleResponse(_ m: Message, now: Instant) -> TURNInput {
        guard let i = transactionIndex(m.transactionID) else { return drop(.unknownTransaction) }
        let t = transactions[i]
        guard m.method == t.kind.method else { return drop(.malformed) }
        var code: Int? = nil
        if m.messageClass == .errorResponse {
            guard let ec = try? m.errorCode() else { return drop(.malformed) }
            code = ec.code
        }
        // RFC 8489 §9.2.5: a response to a request with credentials must carry a valid
        // MESSAGE-INTEGRITY(-SHA256), except the 401/438 challenges (which cannot); over UDP
        // a failed check discards the response as if never received (retransmits go on).
        if t.authenticated {
            let verdict = verifyIntegrity(m)
            if verdict == .bad { return drop(.unauthenticated) }
            if verdict == .absent && code != 401 && code != 438 { return drop(.unauthenticated) }
        }
        transactions.remove(at: i)
        if let code {
            handleError(code, m, t, now: now)
        } else {
            handleSuccess(m, t, now: now)
        }
        return .handled
    }

    func verifyIntegrity(_ m: Message) -> CheckResult {
        guard let key else { return .absent }
        if m.integritySHA256Offset != nil { return m.checkIntegritySHA256(key) }
        return m.checkIntegrity(key)
    }

    func handleSuccess(_ m: Message, _ t: Transaction, now: Instant) {
        switch t.kind {
        case .allocate:
            guard state == .allocating else { return }
            // RFC 8656 §7.3: XOR-RELAYED-ADDRESS (the first, for the family asked for),
            // XOR-MAPPED-ADDRESS and LIFETIME.
            // An unspecified address or port 0 is no relay (coturn answers a retried Allocate
            // after a 508 with 0.0.0.0:0).
            guard let relayed = try? m.xorAddress(.xorRelayedAddress), relayed.port != 0,
                  relayed.ip != .v4Any, relayed.ip != .v6(0, 0)
            else {
                fail(.malformedResponse)
                return
            }
            let mapped = try? m.xorAddress(.xorMappedAddress)
            let lifetime = lifetimeInterval(m)
            relayedAddress = relayed
            mappedAddress = mapped
            state = .allocated
            allocateAttempts = 0
            scheduleRefresh(lifetime: lifetime, now: now)
            emit(.allocated(relayed: relayed, mapped: mapped, lifetime: lifetime))
        case .refresh(let requested):
            if requested == 0 || state == .closing {
                finishClose()
                return
            }
            guard state == .allocated else { return }
            let lifetime = lifetimeInterval(m)
            scheduleRefresh(lifetime: lifetime, now: now)
            emit(.refreshed(lifetime: lifetime))
        case .createPermission(let ip):
            guard state == .allocated, let p = permissionIndex(ip) else { return }
            let first = !permissions[p].installed
            permissions[p].installed = true
            permissions[p].inFlight = false
            permissions[p].expiresAt = now + TURNTiming.permissionLifetime
            permissions[p].refreshAt = now + TURNTiming.permissionRefresh
            if first { emit(.permissionCreated(ip)) }
        case .channelBind(let number, let peer):
            guard state == .allocated, let c = channelIndex(number: number) else { return }
            let first = !channels[c].bound
            channels[c].bound = true
            channels[c].inFlight = false
            channels[c].refreshAt = now + TURNTiming.channelRefresh
            // RFC 8656 §12.2: the ChannelBind installed or refreshed the peer's permission.
            if let p = permissionIndex(peer.ip), !permissions[p].inFlight {
                let firstPermission = !permissions[p].installed
                permissions[p].installed = true
                permissions[p].expiresAt = now + TURNTiming.permissionLifetime
                permissions[p].refreshAt = now + TURNTiming.permissionRefresh
                if firstPermission { emit(.permissionCreated(peer.ip)) }
            }
            if first { emit(.channelBound(peer: peer, channel: number)) }
        }
    }

    /// LIFETIME of a success response; absent means the default (RFC 8656 §7.2).
    func lifetimeInterval(_ m: Message) -> Interval {
        if let v = try? m.uint32(.lifetime) { return .seconds(Int64(v)) }
        return TURNTiming.defaultAllocationLifetime
    }

    func scheduleRefresh(lifetime: Interval, now: Instant) {
        expiresAt = now + lifetime
        let lead = TURNTiming.allocationRefreshLead
        if lifetime.nanoseconds > 2 * lead.nanoseconds {
            refreshAt = now + Interval(nanoseconds: lifetime.nanoseconds - lead.nanoseconds)
        } else {
            refreshAt = now + Interval(nanoseconds: lifetime.nanoseconds / 2)
        }
    }

    // MARK: Error responses

    func handleError(_ code: Int, _ m: Message, _ t: Transaction, now: Instant) {
        switch code {
        case 401:
            // RFC 8489 §9.2.5: a 401 to a request without credentials is the challenge; to
            // one with them, the credentials are wrong (the client does not loop).
            if t.authenticated {
                transactionFailed(t.kind, .wrongCredentials, now: now)
            } else {
                acceptChallenge(m, t, now: now)
            }
        case 438:
            // RFC 8489 §9.2.5: stale nonce: retry at once with the new NONCE (and REALM).
            guard t.staleRetries < TURNTiming.maxStaleNonceRetries else {
                transactionFailed(t.kind, .staleNonceLoop, now: now)
                return
            }
            guard let n = m.value(.nonce), nonce.set(n) else {
                transactionFailed(t.kind, .malformedResponse, now: now)
                return
            }
            if let r = m.value(.realm), !realm.equals(r) {
                guard realm.set(r) else {
                    transactionFailed(t.kind, .malformedResponse, now: now)
                    return
                }
                deriveKey()
            }
            counters.staleNonceRetries += 1
            restart(t, staleRetries: t.staleRetries + 1, now: now)
        case 300:
            // RFC 8489 §10 / RFC 8656 §7.4: Try Alternate, on Allocate only, at most once.
            guard case .allocate = t.kind, state == .allocating else {
                transactionFailed(t.kind, .errorCode(300), now: now)
                return
            }
            guard redirects < TURNTiming.maxRedirects, let alt = try? m.address(.alternateServer) else {
                fail(.tooManyRedirects)
                return
            }
            redirects += 1
            server = alt
            // A DNS name is at most 253 bytes; anything else is ignored, not trusted.
            if let d = m.value(.alternateDomain), d.count > 0, d.count <= 253 {
                alternateDomain = String(decoding: d, as: UTF8.self)
            }
            // A new server: its own realm and nonce, so start unauthenticated again.
            realm.removeAll()
            nonce.removeAll()
            passwordAlgorithms.removeAll()
            key = nil
            passwordAlgorithm = .md5
            emit(.redirected(to: alt))
            restart(t, staleRetries: 0, now: now)
        default:
            transactionFailed(t.kind, TURNFailure(code: code), now: now)
        }
    }

    /// Starts `t`'s request again as a new transaction.
    func restart(_ t: Transaction, staleRetries: Int, now: Instant) {
        do throws(TURNError) {
            try startTransaction(t.kind, now: now, staleRetries: staleRetries)
        } catch {
            transactionFailed(t.kind, .timeout, now: now)
        }
    }

    /// The 401 challenge (RFC 8489 §9.2.4): take REALM, NONCE and PASSWORD-ALGORITHMS, derive
    /// the long-term key once, and send the request again with credentials.
    func acceptChallenge(_ m: Message, _ t: Transaction, now: Instant) {
        guard let r = m.value(.realm), let n = m.value(.nonce), !r.isEmpty, !n.isEmpty else {
            transactionFailed(t.kind, .malformedResponse, now: now)
            return
        }
        if let expected = configuration.expectedRealm {
            var e = expected
            guard e.withUTF8({ r.bytesEqual(UnsafeRawBufferPointer($0)) }) else {
                transactionFailed(t.kind, .realmMismatch, now: now)
                return
            }
        }
        var algorithm = PasswordAlgorithm.md5
        if let list = m.value(.passwordAlgorithms) {
            guard let chosen = choosePasswordAlgorithm(list) else {
                transactionFailed(t.kind, .unsupportedPasswordAlgorithm, now: now)
                return
            }
            algorithm = chosen
            guard passwordAlgorithms.set(list) else {
                transactionFailed(t.kind, .malformedResponse, now: now)
                return
            }
        } else {
            // RFC 8489 §9.2.5: a nonce cookie announcing password algorithms without the list
            // is a downgrade attempt: ignore the response.
            if nonceAnnouncesPasswordAlgorithms(n) {
                transactionFailed(t.kind, .malformedResponse, now: now)
                return
            }
            passwordAlgorithms.removeAll()
        }
        guard realm.set(r), nonce.set(n) else {
            transactionFailed(t.kind, .malformedResponse, now: now)
            return
        }
        passwordAlgorithm = algorithm
        deriveKey()
        restart(t, staleRetries: t.staleRetries, now: now)
    }

    /// RFC 8489 §9.2.2: key = MD5 or SHA-256 of username ":" realm ":" password, computed
    /// once per realm (not per message).
    func deriveKey() {
        let realmText = realm.withBytes { String(decoding: $0, as: UTF8.self) }
        let userText = username.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        key = IntegrityKey.longTerm(username: userText, realm: realmText, password: password, algorithm: passwordAlgorithm)
    }

    /// RFC 8489 §14.11: entries of algorithm (16 bits), parameter length (16 bits), padded
    /// parameters. SHA-256 is preferred, then MD5; nil if neither or the list is malformed.
    func choosePasswordAlgorithm(_ list: UnsafeRawBufferPointer) -> PasswordAlgorithm? {
        var sawMD5 = false, sawSHA256 = false
        var at = 0
        while at < list.count {
            guard list.count - at >= 4 else { return nil }
            let algorithm = list.loadBigEndianUInt16(at: at)
            let length = Int(list.loadBigEndianUInt16(at: at + 2))
            at += 4 + ((length + 3) & ~3)
            guard at <= list.count else { return nil }
            if algorithm == PasswordAlgorithm.md5.rawValue { sawMD5 = true }
            if algorithm == PasswordAlgorithm.sha256.rawValue { sawSHA256 = true }
        }
        return sawSHA256 ? .sha256 : (sawMD5 ? .md5 : nil)
    }

    /// RFC 8489 §9.2: a NONCE starting with the cookie "obMatJos2" carries 24 feature bits
    /// in the next 4 base64 characters; bit 0 (the most significant) is "Password algorithms".
    func nonceAnnouncesPasswordAlgorithms(_ n: UnsafeRawBufferPointer) -> Bool {
        let cookie: StaticString = "obMatJos2"
        let c = cookie.utf8CodeUnitCount
        guard n.count >= c + 4, UnsafeRawBufferPointer(rebasing: n[0..<c]).bytesEqual(cookie) else { return false }
        var bits: UInt32 = 0
        for k in 0..<4 {
            guard let v = base64Value(n[c + k]) else { return false }
            bits = bits << 6 | UInt32(v)
        }
        return bits & 0x80_0000 != 0
    }

    func base64Value(_ ch: UInt8) -> UInt8? {
        switch ch {
        case 0x41...0x5A: return ch - 0x41
        case 0x61...0x7A: return ch - 0x61 + 26
        case 0x30...0x39: return ch - 0x30 + 52
        case 0x2B: return 62
        case 0x2F: return 63
        default: return nil
        }
    }

    /// A request of kind `kind` failed for good (error response, timeout, or retries used up).
    func transactionFailed(_ kind: RequestKind, _ failure: TURNFailure, now: Instant) {
        switch kind {
        case .allocate:
            guard state == .allocating else { return }
            if failure.isRetryable && allocateAttempts < configuration.allocateAttempts {
                let wait = TURNTiming.allocateRetryBackoff * Int64(1 << (allocateAttempts - 1))
                allocateAttempts += 1
                allocateRetryAt = now + wait
                emit(.retrying(failure, after: wait))
            } else {
                fail(failure)
            }
        case .refresh(let lifetime):
            if lifetime == 0 || state == .closing {
                // Deallocation done as far as we can tell: a 437 means the server already
                // deleted it (a retransmitted LIFETIME 0, RFC 8656 §8), a timeout means it will
                // expire on its own.
                finishClose()
                return
            }
            guard state == .allocated else { return }
            fail(failure)
        case .createPermission(let ip):
            guard let p = permissionIndex(ip) else { return }
            permissions.remove(at: p)
            emit(.permissionFailed(ip, failure))
        case .channelBind(let number, let peer):
            guard let c = channelIndex(number: number) else { return }
            channels.remove(at: c)
            // The permission entry bindChannel made for this peer was never installed.
            if let p = permissionIndex(peer.ip), !permissions[p].installed, !permissions[p].inFlight {
                permissions.remove(at: p)
            }
            emit(.channelBindFailed(peer: peer, failure))
        }
    }
}
