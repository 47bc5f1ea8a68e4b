import Common
import STUN

extension TURNClient {
    // MARK: - Transactions

    typealias RequestKind = TURNRequestKind

    typealias Transaction = TURNTransaction

    func hasTransaction(_ match: (RequestKind) -> Bool) -> Bool {
        for t in transactions where match(t.kind) { return true }
        return false
    }

    /// Starts a new transaction (fresh id) and sends its first request.
    func startTransaction(_ kind: RequestKind, now: Instant, staleRetries: Int = 0) throws(TURNError) {
        guard !transactions.isFull else {
            counters.tableFull += 1
            emit(.tableFull(.transactions))
            throw .tableFull(.transactions)
        }
        let timer: Retransmission
        if configuration.transport.isStream {
            // RFC 8489 §6.2.2: no retransmission over a reliable transport; fail after Ti.
            timer = Retransmission(now: now, rto: TURNTiming.reliableTransactionTimeout, maxSends: 1, lastWaitFactor: 1)
        } else {
            timer = Retransmission(now: now, rto: configuration.rto, maxSends: configuration.maxSends,
                                   lastWaitFactor: TURNTiming.lastWaitFactor)
        }
        var t = Transaction(id: TransactionID(random: &random), kind: kind, timer: timer,
                            authenticated: key != nil, staleRetries: staleRetries)
        _ = t.timer.poll(now: now)  // the first send is due now
        transactions.append(t)
        counters.requestsSent += 1
        transmitRequest(at: transactions.count - 1, now: now)
    }

    /// (Re)builds the request of transaction `i` into the transmit ring. Retransmissions are
    /// rebuilt from the same id, nonce and key, so they are byte-identical (RFC 8489 §6.2.1).
    func transmitRequest(at i: Int, now: Instant) {
        let slot: UnsafeMutableRawBufferPointer
        do throws(DatagramRingError) {
            slot = try transmits.reserve()
        } catch {
            counters.transmitDropped += 1
            return
        }
        let t = transactions[i]
        let n: Int
        do throws(BuildError) {
            n = try buildRequest(t.kind, id: t.id, authenticated: t.authenticated, into: slot)
        } catch {
            counters.transmitDropped += 1
            return
        }
        _ = queueForServer(length: n, now: now)
    }

    /// Retransmits the requests that are due and ends those that ran out of attempts
    /// (RFC 8489 §6.2.1); a timed-out request may fail or close the client.
    func pollTransactionTimers(now: Instant) {
        var i = 0
        while i < transactions.count {
            switch transactions[i].timer.poll(now: now) {
            case .wait:
                i += 1
            case .send:
                counters.retransmits += 1
                transmitRequest(at: i, now: now)
                i += 1
            case .timedOut:
                let t = transactions.remove(at: i)
                transactionFailed(t.kind, .timeout, now: now)
                if state == .failed || state == .closed { return }
            }
        }
    }

    func buildRequest(_ kind: RequestKind, id: TransactionID, authenticated: Bool,
                      into buffer: UnsafeMutableRawBufferPointer) throws(BuildError) -> Int {
        var b = try MessageBuilder(into: buffer, type: MessageType(kind.method, .request), transactionID: id)
        switch kind {
        case .allocate:
            // RFC 8656 §7.1: REQUESTED-TRANSPORT 17 (UDP); the family only when not IPv4.
            try b.append(.requestedTransport, uint8: 17)
            if let lifetime = configuration.requestedLifetime { try b.append(.lifetime, uint32: lifetime) }
            if configuration.addressFamily != .ipv4 {
                try b.append(.requestedAddressFamily, uint8: configuration.addressFamily.rawValue)
            }
        case .refresh(let lifetime):
            if let lifetime { try b.append(.lifetime, uint32: lifetime) }
        case .createPermission(let ip):
            try b.append(.xorPeerAddress, xorAddress: TransportAddress(ip, 0))
        case .channelBind(let channel, let peer):
            try b.append(.channelNumber, uint16: channel)
            try b.append(.xorPeerAddress, xorAddress: peer)
        }
        if let software = configuration.software { try b.append(.software, text: software) }
        if authenticated, let key {
            // RFC 8489 §9.2.4: USERNAME, REALM, NONCE, and with PASSWORD-ALGORITHMS from the
            // server both it (verbatim) and the chosen PASSWORD-ALGORITHM.
            try appendBytes(&b, .username, username.count) { dst in username.withUnsafeBytes { dst.copyMemory(from: $0) } }
            try appendBytes(&b, .realm, realm.bytes.count) { dst in realm.withBytes { dst.copyMemory(from: $0) } }
            try appendBytes(&b, .nonce, nonce.bytes.count) { dst in nonce.withBytes { dst.copyMemory(from: $0) } }
            if !passwordAlgorithms.isEmpty {
                try appendBytes(&b, .passwordAlgorithms, passwordAlgorithms.bytes.count) { dst in
                    passwordAlgorithms.withBytes { dst.copyMemory(from: $0) }
                }
                try b.appendPasswordAlgorithm(passwordAlgorithm)
            }
            if passwordAlgorithm == .sha256 {
                try b.appendMessageIntegritySHA256(key)
            } else {
                try b.appendMessageIntegrity(key)
            }
        }
        if configuration.fingerprint { try b.appendFingerprint() }
        return b.count
    }

    private func appendBytes(_ b: inout MessageBuilder, _ type: AttributeType, _ length: Int,
                             _ fill: (UnsafeMutableRawBufferPointer) -> Void) throws(BuildError) {
        let slot = try b.reserve(type, length: length)
        if length > 0 { fill(slot) }
    }

    func transactionIndex(_ id: TransactionID) -> Int? {
        for i in transactions.indices where transactions[i].id == id { return i }
        return nil
    }
}
