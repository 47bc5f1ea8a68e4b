import Common
import STUN
import TURN

/// The TURN server's requests: authentication (RFC 8489 §9.2.4), then Allocate (RFC 8656
/// §7.2), Refresh (§8.2), CreatePermission (§10.2) and ChannelBind (§12.2). Every response to
/// an authenticated request is signed with the requester's key, errors included: a client
/// must discard an unsigned answer to a signed request (RFC 8489 §9.2.5).
extension TurnServerEndpoint {
    func handleRequest(_ m: Message, client: TransportAddress, now: Instant) {
        // Binding is plain STUN (RFC 8489), which TURN servers such as coturn answer on the
        // same port without credentials.
        if m.method == .binding {
            var out = [UInt8](repeating: 0, count: 512)
            let responder = BindingResponder(primary: address, software: software)
            let r = out.withUnsafeMutableBytes { responder.respond(to: m, from: client, on: address, into: $0) }
            if let r { outbox.append(from: r.from, to: r.to, bytes: Array(out[0..<r.count])) }
            return
        }
        guard !m.isClassic else {
            counters.droppedMalformed += 1
            return
        }
        let turnMethod = m.method == .allocate || m.method == .refresh || m.method == .createPermission
            || m.method == .channelBind
        guard turnMethod else {
            reject(m, client, 400, key: nil, now: now)
            return
        }
        guard let credential = authenticate(m, client: client, now: now) else { return }
        let (username, key) = credential
        // RFC 8489 §6.3.1: a request with comprehension-required attributes we do not know.
        if !m.unknownComprehensionRequired.isEmpty {
            reject(m, client, 420, key: key, unknown: m.unknownComprehensionRequired, now: now)
            return
        }
        switch m.method {
        case .allocate: allocate(m, client: client, username: username, key: key, now: now)
        case .refresh: refresh(m, client: client, username: username, key: key, now: now)
        case .createPermission: createPermission(m, client: client, username: username, key: key, now: now)
        default: channelBind(m, client: client, username: username, key: key, now: now)
        }
    }

    // MARK: Long-term credentials

    /// RFC 8489 §9.2.4, in its order: no MESSAGE-INTEGRITY is the challenge (401 with REALM
    /// and a fresh NONCE); credentials without USERNAME, REALM or NONCE are malformed (400);
    /// a nonce we did not issue, or too old, is stale (438, with a new one); an unknown user,
    /// another realm or a wrong key is 401 again. Returns the user and key, or nil once the
    /// rejection is queued.
    func authenticate(_ m: Message, client: TransportAddress, now: Instant) -> (String, IntegrityKey)? {
        guard m.integrityOffset != nil || m.integritySHA256Offset != nil else {
            counters.challenges += 1
            reject(m, client, 401, key: nil, challenge: true, now: now)
            return nil
        }
        guard let username = try? m.username(), let realmValue = m.value(.realm), let nonce = m.value(.nonce) else {
            reject(m, client, 400, key: nil, now: now)
            return nil
        }
        guard nonceIsFresh(nonce, now: now) else {
            counters.staleNonces += 1
            reject(m, client, 438, key: nil, challenge: true, now: now)
            return nil
        }
        let name = String(decoding: username, as: UTF8.self)
        // We offer no PASSWORD-ALGORITHMS, so clients use MD5 keys and HMAC-SHA1 integrity.
        guard String(decoding: realmValue, as: UTF8.self) == realm,
              let user = users.first(where: { $0.username == name }),
              m.checkIntegrity(user.key) == .ok
        else {
            counters.rejectedCredentials += 1
            reject(m, client, 401, key: nil, challenge: true, now: now)
            return nil
        }
        return (name, user.key)
    }

    /// Nonces are "sim-nonce-N" from a counter, where RFC 8656 §5 asks for random ones:
    /// unpredictability buys nothing on a simulated network, reproducibility does.
    func issueNonce(now: Instant) -> String {
        noncesIssued += 1
        let text = "sim-nonce-\(noncesIssued)"
        nonces.append((text, now))
        return text
    }

    func nonceIsFresh(_ value: UnsafeRawBufferPointer, now: Instant) -> Bool {
        let text = String(decoding: value, as: UTF8.self)
        guard let issued = nonces.first(where: { $0.text == text }) else { return false }
        guard let lifetime = nonceLifetime else { return true }
        return now < issued.issuedAt + lifetime
    }

    // MARK: Allocate

    func allocate(_ m: Message, client: TransportAddress, username: String, key: IntegrityKey, now: Instant) {
        if let i = allocationIndex(client: client) {
            // RFC 8656 §7.2 step 2, except that a retransmission (same transaction id) must be
            // idempotent (§5): its first success may have been lost.
            if allocations[i].transactionID == m.transactionID {
                allocateSuccess(m, allocations[i], additionalFamilyRefused: m.contains(.additionalAddressFamily), now: now)
            } else {
                reject(m, client, 437, key: key, now: now)
            }
            return
        }
        let even: Bool, additionalFamily: Bool
        switch allocateParameters(m) {
        case .refused(let code):
            reject(m, client, code, key: key, now: now)
            return
        case .accepted(let e, let a):
            even = e
            additionalFamily = a
        }
        guard allocations.count(where: { $0.username == username }) < allocationQuota else {
            reject(m, client, 486, key: key, now: now)
            return
        }
        guard let lifetime = desiredLifetime(m, refresh: false) else {
            reject(m, client, 400, key: key, now: now)
            return
        }
        guard let port = freePort(even: even) else {
            reject(m, client, 508, key: key, now: now)
            return
        }
        let allocation = TurnAllocation(client: client, relayed: TransportAddress(address.ip, port), username: username,
                                        key: key, transactionID: m.transactionID, expiresAt: now + lifetime)
        allocations.append(allocation)
        counters.allocationsCreated += 1
        allocateSuccess(m, allocation, additionalFamilyRefused: additionalFamily, now: now)
    }

    enum AllocateParameters {
        case refused(Int)
        case accepted(even: Bool, additionalFamily: Bool)
    }

    /// RFC 8656 §7.2 steps 3 to 9, on the request alone: the error code to answer, or the
    /// EVEN-PORT and ADDITIONAL-ADDRESS-FAMILY it asks for.
    func allocateParameters(_ m: Message) -> AllocateParameters {
        // Step 3: UDP (17) is the only transport relayed.
        guard let transport = m.value(.requestedTransport).flatMap({ try? decodeUInt8($0) }) else { return .refused(400) }
        guard transport == 17 else { return .refused(442) }
        let requested = m.value(.requestedAddressFamily).flatMap { try? decodeUInt8($0) }
        let additional = m.value(.additionalAddressFamily).flatMap { try? decodeUInt8($0) }
        if (m.contains(.requestedAddressFamily) && requested == nil) || (m.contains(.additionalAddressFamily) && additional == nil)
            || (requested != nil && additional != nil) || (additional != nil && additional != 0x02)
        {
            return .refused(400)  // steps 6 and 9
        }
        // Step 5: we never hand out RESERVATION-TOKENs, so none can be valid.
        if m.contains(.reservationToken) {
            let conflicting = m.contains(.evenPort) || requested != nil || additional != nil
            return .refused(conflicting ? 400 : 508)
        }
        // Step 7: the server relays on its own address's family only.
        let family: UInt8 = address.ip.isIPv4 ? 0x01 : 0x02
        guard (requested ?? 0x01) == family else { return .refused(440) }
        // Step 8: an even port is easy; reserving the next one (R bit) is not offered.
        var even = false
        if let v = m.value(.evenPort) {
            guard v.count == 1 else { return .refused(400) }
            guard v[0] & 0x80 == 0 else { return .refused(508) }
            even = true
        }
        return .accepted(even: even, additionalFamily: additional != nil)
    }

    /// RFC 8656 §7.2: XOR-RELAYED-ADDRESS, LIFETIME (time left) and XOR-MAPPED-ADDRESS (the
    /// client as seen from here: its server-reflexive address). A dual-stack request gets
    /// its one family and ADDRESS-ERROR-CODE 440 for the other (step 9).
    func allocateSuccess(_ m: Message, _ a: TurnAllocation, additionalFamilyRefused: Bool, now: Instant) {
        respond(m, a.client, success: true, key: a.key) { b throws(BuildError) in
            try b.append(.xorRelayedAddress, xorAddress: a.relayed)
            try b.append(.lifetime, uint32: seconds(a.expiresAt - now))
            try b.append(.xorMappedAddress, xorAddress: a.client)
            if additionalFamilyRefused { try b.appendAddressErrorCode(family: 0x02, 440) }
        }
    }

    /// RFC 8656 §7.2 and §8.2: min(requested, maximum), but never below the default; a Refresh
    /// asking for 0 deletes. Nil when LIFETIME is malformed.
    func desiredLifetime(_ m: Message, refresh: Bool) -> Interval? {
        guard let v = m.value(.lifetime) else { return defaultLifetime }
        guard let requested = try? decodeUInt32(v) else { return nil }
        if requested == 0 && refresh { return .seconds(0) }
        let computed = min(Interval.seconds(Int64(requested)), maxLifetime)
        return computed > defaultLifetime ? computed : defaultLifetime
    }

    /// The next free port of `relayPorts`, in turn, so relayed addresses are distinct and
    /// predictable.
    func freePort(even: Bool) -> UInt16? {
        let size = Int(relayPorts.upperBound) - Int(relayPorts.lowerBound) + 1
        for _ in 0..<size {
            let port = nextPort
            nextPort = port == relayPorts.upperBound ? relayPorts.lowerBound : port + 1
            if even && port % 2 != 0 { continue }
            if port == address.port || allocations.contains(where: { $0.relayed.port == port }) { continue }
            return port
        }
        return nil
    }

    // MARK: Requests on an allocation

    /// RFC 8656 §5: every other request needs the 5-tuple's allocation (437) and the username
    /// that created it (441), so one user cannot act on another's relay.
    func owned(_ m: Message, client: TransportAddress, username: String, key: IntegrityKey, now: Instant) -> Int? {
        guard let i = allocationIndex(client: client) else {
            reject(m, client, 437, key: key, now: now)
            return nil
        }
        guard allocations[i].username == username else {
            reject(m, client, 441, key: key, now: now)
            return nil
        }
        return i
    }

    /// RFC 8656 §8.2.
    func refresh(_ m: Message, client: TransportAddress, username: String, key: IntegrityKey, now: Instant) {
        guard let i = owned(m, client: client, username: username, key: key, now: now) else { return }
        if let v = m.value(.requestedAddressFamily) {
            let family: UInt8 = allocations[i].relayed.ip.isIPv4 ? 0x01 : 0x02
            guard (try? decodeUInt8(v)) == family else {
                reject(m, client, 443, key: key, now: now)
                return
            }
        }
        guard let lifetime = desiredLifetime(m, refresh: true) else {
            reject(m, client, 400, key: key, now: now)
            return
        }
        if lifetime.nanoseconds == 0 {
            allocations.remove(at: i)
            counters.allocationsDeleted += 1
        } else {
            allocations[i].expiresAt = now + lifetime
        }
        respond(m, client, success: true, key: key) { b throws(BuildError) in
            try b.append(.lifetime, uint32: seconds(lifetime))
        }
    }

    /// RFC 8656 §10.2: one permission per XOR-PEER-ADDRESS (IP only), all or nothing.
    func createPermission(_ m: Message, client: TransportAddress, username: String, key: IntegrityKey, now: Instant) {
        guard let i = owned(m, client: client, username: username, key: key, now: now) else { return }
        var peers: [IPAddress] = []
        for k in 0..<m.attributes.count where m.attributes[k].type == .xorPeerAddress {
            guard let peer = try? decodeXORAddress(m.value(of: m.attributes[k]), transactionID: m.transactionID) else {
                reject(m, client, 400, key: key, now: now)
                return
            }
            guard peer.ip.isIPv4 == allocations[i].relayed.ip.isIPv4 else {
                reject(m, client, 443, key: key, now: now)
                return
            }
            peers.append(peer.ip)
        }
        guard !peers.isEmpty else {
            reject(m, client, 400, key: key, now: now)
            return
        }
        for ip in peers { allocations[i].permit(ip, until: now + Self.permissionLifetime) }
        respond(m, client, success: true, key: key) { _ throws(BuildError) in }
    }

    /// RFC 8656 §12.2: a channel number and a peer transport address map one-to-one; a
    /// ChannelBind also installs or refreshes the peer's permission.
    func channelBind(_ m: Message, client: TransportAddress, username: String, key: IntegrityKey, now: Instant) {
        guard let i = owned(m, client: client, username: username, key: key, now: now) else { return }
        guard let numberValue = m.value(.channelNumber), let number = try? decodeUInt16(numberValue),
              let peer = try? m.xorAddress(.xorPeerAddress), ChannelData.isValidChannel(number)
        else {
            reject(m, client, 400, key: key, now: now)
            return
        }
        let a = allocations[i]
        if let c = a.channel(number: number, now: now), c.peer != peer {
            reject(m, client, 400, key: key, now: now)
            return
        }
        if let c = a.channel(peer: peer, now: now), c.number != number {
            reject(m, client, 400, key: key, now: now)
            return
        }
        guard peer.ip.isIPv4 == a.relayed.ip.isIPv4 else {
            reject(m, client, 443, key: key, now: now)
            return
        }
        let expiry = now + Self.channelLifetime
        if let c = allocations[i].channels.firstIndex(where: { $0.number == number }) {
            allocations[i].channels[c].expiresAt = expiry
        } else {
            allocations[i].channels.append(TurnAllocation.Channel(number: number, peer: peer, expiresAt: expiry))
        }
        allocations[i].permit(peer.ip, until: now + Self.permissionLifetime)
        respond(m, client, success: true, key: key) { _ throws(BuildError) in }
    }

    // MARK: Responses

    /// An error response. `challenge` adds REALM and a new NONCE (401, 438); `key` signs it
    /// when the request was authenticated.
    func reject(_ m: Message, _ client: TransportAddress, _ code: Int, key: IntegrityKey?, challenge: Bool = false,
                unknown: UnknownAttributes? = nil, now: Instant) {
        let nonce = challenge ? issueNonce(now: now) : ""
        counters.errorResponses += 1
        let realm = self.realm
        respond(m, client, success: false, key: key) { b throws(BuildError) in
            try b.appendErrorCode(code)
            if let unknown { try b.appendUnknownAttributes(unknown) }
            if challenge {
                try b.append(.realm, text: realm)
                try b.append(.nonce, text: nonce)
            }
        }
    }

    /// Builds a response to `m` (same method and transaction id): `fill`'s attributes, then
    /// SOFTWARE, MESSAGE-INTEGRITY with `key` if any, and FINGERPRINT.
    func respond(_ m: Message, _ client: TransportAddress, success: Bool, key: IntegrityKey?,
                 _ fill: (inout MessageBuilder) throws(BuildError) -> Void) {
        var out = [UInt8](repeating: 0, count: 1024)
        let software = self.software
        let n = out.withUnsafeMutableBytes { raw -> Int in
            do throws(BuildError) {
                var b = try MessageBuilder(into: raw, type: MessageType(m.method, success ? .successResponse : .errorResponse),
                                           transactionID: m.transactionID)
                try fill(&b)
                try b.append(.software, text: software)
                if let key { try b.appendMessageIntegrity(key) }
                try b.appendFingerprint()
                return b.count
            } catch {
                return 0  // 1 KB holds every response this server builds
            }
        }
        guard n > 0 else { return }
        outbox.append(from: address, to: client, bytes: Array(out[0..<n]))
    }
}

/// Whole seconds for LIFETIME (RFC 8656 §18.4), rounded down.
private func seconds(_ i: Interval) -> UInt32 {
    UInt32(clamping: max(0, i.nanoseconds / 1_000_000_000))
}
