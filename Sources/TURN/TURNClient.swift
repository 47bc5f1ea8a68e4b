import Common
import STUN

/// The TURN client (RFC 8656) for one allocation on one server, sans-IO: it is handed
/// datagrams (or stream frames) and the time, and says what to send, when to be called
/// again, and what happened. No sockets, clocks or threads inside; randomness (transaction
/// ids) is injected as `R`.
///
///     client.start(now:)                   // Allocate (401 challenge, then with credentials)
///     client.handle(packet:from:now:)      // a datagram from the server: responses, relayed data
///     client.handleTimeout(now:)           // the deadline it asked for has come
///     client.pollTransmit()                // next datagram for the server
///     client.pollEvent()                   // allocated, failed, permission, channel...
///     client.nextDeadline                  // when to call handleTimeout next
///     client.createPermission(peer:now:) / bindChannel(peer:now:) / send(_:to:now:)
///     client.close(now:)                   // Refresh with LIFETIME 0
///
/// Over UDP the client also keeps the NAT binding towards the server alive while the
/// allocation is idle (a Binding indication after `TURNTiming.keepaliveInterval` without
/// sending anything), so an allocation ICE did not select survives until its next refresh.
///
/// All tables are allocated at creation; after that, sending and receiving relayed data
/// allocates nothing (transmits are written into the client's ring, received data is a view
/// into the caller's packet).
public final class TURNClient<R: RandomSource> {
    public let configuration: TURNConfiguration
    /// Changes once on a 300 (Try Alternate).
    public internal(set) var server: TransportAddress
    public internal(set) var state: TURNState = .idle
    public internal(set) var counters = TURNCounters()
    public internal(set) var relayedAddress: TransportAddress? = nil
    public internal(set) var mappedAddress: TransportAddress? = nil
    /// When the allocation expires unless refreshed.
    public internal(set) var expiresAt: Instant? = nil
    /// Password algorithm in use once the server has challenged us.
    public internal(set) var passwordAlgorithm: PasswordAlgorithm = .md5

    var random: R
    let username: [UInt8]
    let password: String

    // Long-term credential state (RFC 8489 §9.2): filled by the first 401.
    var realm = BoundedBytes(limit: 763)
    var nonce = BoundedBytes(limit: 763)
    /// PASSWORD-ALGORITHMS exactly as the server sent it, echoed in every request (§9.2.4).
    var passwordAlgorithms = BoundedBytes(limit: 256)
    var key: IntegrityKey? = nil

    var transactions: [Transaction]
    var permissions: [Permission]
    var channels: [Channel]
    let transmits: DatagramRing
    var events: Ring<TURNEvent>
    /// When something was last queued for the server (requests, data, keepalives): the
    /// keepalive timer runs from here.
    var lastSentAt: Instant? = nil

    var refreshAt: Instant? = nil
    var allocateRetryAt: Instant? = nil
    var allocateAttempts = 0
    var redirects = 0
    /// ALTERNATE-DOMAIN of the last 300 (RFC 8489 §14.16): over TLS, the name the alternate
    /// server's certificate must match; nil keeps the original name (RFC 8489 §10).
    public internal(set) var alternateDomain: String? = nil

    enum RequestKind: Equatable {
        case allocate
        case refresh(lifetime: UInt32?)
        case createPermission(IPAddress)
        case channelBind(channel: UInt16, peer: TransportAddress)

        var method: Method {
            switch self {
            case .allocate: return .allocate
            case .refresh: return .refresh
            case .createPermission: return .createPermission
            case .channelBind: return .channelBind
            }
        }
    }

    struct Transaction {
        var id: TransactionID
        var kind: RequestKind
        var timer: Retransmission
        /// Whether the request carries MESSAGE-INTEGRITY: then responses must too.
        var authenticated: Bool
        var staleRetries: Int
    }

    struct Permission {
        var ip: IPAddress
        /// Installed on the server (a success seen); false while the first request is pending.
        var installed = false
        var expiresAt: Instant? = nil
        var refreshAt: Instant? = nil
        var inFlight = false
    }

    struct Channel {
        var number: UInt16
        var peer: TransportAddress
        /// Confirmed by a ChannelBind success: ChannelData may be sent.
        var bound = false
        var refreshAt: Instant? = nil
        var inFlight = false
    }

    public init(server: TransportAddress, username: String, password: String,
                configuration: TURNConfiguration = TURNConfiguration(), random: R) {
        self.server = server
        self.configuration = configuration
        self.random = random
        var u = username
        self.username = u.withUTF8 { Array($0) }
        self.password = password
        let caps = configuration.capacities
        transactions = []
        transactions.reserveCapacity(max(1, caps.transactions))
        permissions = []
        permissions.reserveCapacity(max(1, caps.permissions))
        channels = []
        channels.reserveCapacity(max(1, caps.channels))
        transmits = DatagramRing(capacity: caps.transmitQueue, slotSize: caps.transmitSlotSize)
        events = Ring(capacity: caps.events)
    }

    // MARK: - Polling

    public func pollTransmit() -> TURNTransmit? {
        guard let d = transmits.dequeue() else { return nil }
        return TURNTransmit(destination: d.destination, transport: configuration.transport, bytes: d.bytes)
    }

    public func pollEvent() -> TURNEvent? { events.pop() }

    func emit(_ e: TURNEvent) {
        if !events.push(e) { counters.tableFull += 1 }
    }

    /// When `handleTimeout` must be called next; nil when nothing is pending.
    public var nextDeadline: Instant? {
        var d: Instant? = nil
        func consider(_ t: Instant?) {
            guard let t else { return }
            if d == nil || t < d! { d = t }
        }
        for t in transactions { consider(t.timer.deadline) }
        consider(allocateRetryAt)
        if state == .allocated {
            if !hasTransaction({ if case .refresh = $0 { return true } else { return false } }) { consider(refreshAt) }
            consider(expiresAt)
            for p in permissions where !p.inFlight { consider(p.refreshAt) }
            for c in channels where !c.inFlight { consider(c.refreshAt) }
            consider(keepaliveAt)
        }
        return d
    }

    /// When the next keepalive is due while allocated (nil: none over TCP/TLS, or disabled).
    ///
    /// Over UDP the server only sees us through a NAT binding, which a NAT may drop after 2
    /// minutes without outbound traffic (RFC 4787 REQ-5); an allocation ICE does not use sends
    /// nothing between CreatePermission refreshes (every 240 s) and allocation refreshes, so
    /// its next Refresh would leave from a new mapped port and get 437 (Allocation Mismatch):
    /// the allocation is lost. Over TCP and TLS there is nothing to do here: the allocation is
    /// tied to the connection (RFC 8656 §3.1), whose liveness is the transport's business (a
    /// NAT tracks an established TCP connection for hours, RFC 5382 REQ-5), and losing it is
    /// reported through `connectionLost`.
    var keepaliveAt: Instant? {
        guard configuration.transport == .udp, let interval = configuration.keepaliveInterval,
              let last = lastSentAt else { return nil }
        return last + interval
    }

    // MARK: - Allocation

    /// Sends the first Allocate (RFC 8656 §7.1): REQUESTED-TRANSPORT UDP, without credentials;
    /// the server's 401 supplies REALM and NONCE.
    public func start(now: Instant) throws(TURNError) {
        guard state == .idle else { throw .alreadyStarted }
        state = .allocating
        allocateAttempts = 1
        try startTransaction(.allocate, now: now)
    }

    /// Deletes the allocation (RFC 8656 §8: Refresh with LIFETIME 0). Pending requests are
    /// abandoned; `.deallocated` follows when the server answers (or does not).
    public func close(now: Instant) {
        switch state {
        case .allocated:
            transactions.removeAll(keepingCapacity: true)
            state = .closing
            refreshAt = nil
            allocateRetryAt = nil
            do throws(TURNError) {
                try startTransaction(.refresh(lifetime: 0), now: now)
            } catch {
                finishClose()
            }
        case .idle, .allocating:
            transactions.removeAll(keepingCapacity: true)
            allocateRetryAt = nil
            state = .closed
        case .closing, .closed, .failed:
            break
        }
    }

    /// The TCP or TLS connection to the server closed or broke. RFC 8656 §3.1 ties the
    /// allocation to that connection, so it is gone: an allocation in progress or in use fails
    /// with `.connectionLost` (and nothing more is sent); a close in progress is complete.
    public func connectionLost(now: Instant) {
        switch state {
        case .allocating, .allocated:
            fail(.connectionLost)
        case .closing:
            finishClose()
        case .idle:
            state = .failed
            emit(.failed(.connectionLost))
        case .closed, .failed:
            break
        }
    }

    func finishClose() {
        transactions.removeAll(keepingCapacity: true)
        permissions.removeAll(keepingCapacity: true)
        channels.removeAll(keepingCapacity: true)
        state = .closed
        emit(.deallocated)
    }

    func fail(_ f: TURNFailure) {
        transactions.removeAll(keepingCapacity: true)
        permissions.removeAll(keepingCapacity: true)
        channels.removeAll(keepingCapacity: true)
        allocateRetryAt = nil
        refreshAt = nil
        state = .failed
        emit(.failed(f))
    }

    // MARK: - Permissions and channels

    /// Installs (and keeps refreshing) a permission for `peer`'s IP (RFC 8656 §9); the port is
    /// ignored. A permission that already exists is left as it is.
    public func createPermission(peer: TransportAddress, now: Instant) throws(TURNError) {
        guard state == .allocated, let relayed = relayedAddress else { throw .notAllocated }
        guard peer.ip.isIPv4 == relayed.ip.isIPv4 else { throw .peerAddressFamilyMismatch }
        if permissionIndex(peer.ip) != nil { return }
        guard permissions.count < configuration.capacities.permissions else {
            counters.tableFull += 1
            throw .tableFull(.permissions)
        }
        try startTransaction(.createPermission(peer.ip), now: now)
        permissions.append(Permission(ip: peer.ip, inFlight: true))
    }

    /// Binds a channel to `peer` (RFC 8656 §12.1) and keeps refreshing it; returns its number.
    /// ChannelData is used for this peer once the server confirms (`.channelBound`); until
    /// then `send` uses Send indications. Also creates the peer's permission entry, since the
    /// ChannelBind installs it on the server.
    @discardableResult
    public func bindChannel(peer: TransportAddress, now: Instant) throws(TURNError) -> UInt16 {
        guard state == .allocated, let relayed = relayedAddress else { throw .notAllocated }
        guard peer.ip.isIPv4 == relayed.ip.isIPv4 else { throw .peerAddressFamilyMismatch }
        if let i = channelIndex(peer: peer) { return channels[i].number }
        guard channels.count < configuration.capacities.channels else {
            counters.tableFull += 1
            throw .tableFull(.channels)
        }
        let needsPermission = permissionIndex(peer.ip) == nil
        if needsPermission && permissions.count >= configuration.capacities.permissions {
            counters.tableFull += 1
            throw .tableFull(.permissions)
        }
        guard let number = freeChannelNumber() else { throw .noChannelNumber }
        try startTransaction(.channelBind(channel: number, peer: peer), now: now)
        channels.append(Channel(number: number, peer: peer, inFlight: true))
        // The ChannelBind installs the permission; our own CreatePermission refreshes it.
        if needsPermission { permissions.append(Permission(ip: peer.ip)) }
        return number
    }

    /// The channel confirmed for `peer`, if any.
    public func channel(for peer: TransportAddress) -> UInt16? {
        guard let i = channelIndex(peer: peer), channels[i].bound else { return nil }
        return channels[i].number
    }

    /// Whether a permission for `ip` is installed on the server.
    public func hasPermission(_ ip: IPAddress) -> Bool {
        guard let i = permissionIndex(ip) else { return false }
        return permissions[i].installed
    }

    func permissionIndex(_ ip: IPAddress) -> Int? {
        for i in permissions.indices where permissions[i].ip == ip { return i }
        return nil
    }

    func channelIndex(peer: TransportAddress) -> Int? {
        for i in channels.indices where channels[i].peer == peer { return i }
        return nil
    }

    func channelIndex(number: UInt16) -> Int? {
        for i in channels.indices where channels[i].number == number { return i }
        return nil
    }

    func freeChannelNumber() -> UInt16? {
        var n = TURNTiming.firstChannel
        while true {
            if channelIndex(number: n) == nil { return n }
            if n == TURNTiming.lastChannel { return nil }
            n += 1
        }
    }

    // MARK: - Data path

    /// Sends `data` to `peer` through the relay: as ChannelData when a channel to it is bound
    /// and confirmed, otherwise as a Send indication (RFC 8656 §11.1). Written straight into
    /// the transmit ring; nothing is allocated.
    public func send(_ data: UnsafeRawBufferPointer, to peer: TransportAddress, now: Instant) throws(TURNError) {
        guard state == .allocated else { throw .notAllocated }
        guard permissionIndex(peer.ip) != nil else { throw .noPermission }
        let slot: UnsafeMutableRawBufferPointer
        do throws(DatagramRingError) {
            slot = try transmits.reserve()
        } catch {
            counters.transmitDropped += 1
            throw .tableFull(.transmitQueue)
        }
        if let i = channelIndex(peer: peer), channels[i].bound {
            let n: Int
            do throws(ChannelDataError) {
                n = try ChannelData.write(channel: channels[i].number, payload: data,
                                          transport: configuration.transport, into: slot)
            } catch {
                throw .payloadTooLarge
            }
            guard queueForServer(length: n, now: now) else { throw .payloadTooLarge }
            counters.channelDataSent += 1
            return
        }
        let id = TransactionID(random: &random)
        let n: Int
        do throws(BuildError) {
            var b = try MessageBuilder(into: slot, type: MessageType(.send, .indication), transactionID: id)
            try b.append(.xorPeerAddress, xorAddress: peer)
            try b.append(.data, bytes: data)
            n = b.count
        } catch {
            throw .payloadTooLarge
        }
        guard queueForServer(length: n, now: now) else { throw .payloadTooLarge }
        counters.sendIndicationsSent += 1
    }

    /// Commits the slot `transmits.reserve()` returned, `length` bytes for the server, and
    /// restarts the keepalive timer; false (counted) if the ring refused it.
    func queueForServer(length: Int, now: Instant) -> Bool {
        do throws(DatagramRingError) {
            try transmits.commit(length: length, to: server)
        } catch {
            counters.transmitDropped += 1
            return false
        }
        lastSentAt = now
        return true
    }

    /// RFC 8445 §11 / RFC 8489 §6.3.2: a Binding indication with FINGERPRINT, which the server
    /// (coturn included) accepts and does not answer, refreshes the NAT binding on the path to
    /// it at the cost of one small datagram. Written into the ring like everything else, so
    /// it allocates nothing.
    func sendKeepalive(now: Instant) {
        let slot: UnsafeMutableRawBufferPointer
        do throws(DatagramRingError) {
            slot = try transmits.reserve()
        } catch {
            // Queued datagrams to the server will refresh the binding once polled; try again
            // an interval later rather than at every call.
            counters.transmitDropped += 1
            lastSentAt = now
            return
        }
        let id = TransactionID(random: &random)
        let n: Int
        do throws(BuildError) {
            var b = try MessageBuilder(into: slot, type: MessageType(.binding, .indication), transactionID: id)
            try b.appendFingerprint()
            n = b.count
        } catch {
            counters.transmitDropped += 1
            lastSentAt = now
            return
        }
        if queueForServer(length: n, now: now) {
            counters.keepalivesSent += 1
        } else {
            lastSentAt = now
        }
    }

    // MARK: - Timers

    /// Runs whatever is due at `now`: retransmissions, timeouts, refreshes, retries.
    public func handleTimeout(now: Instant) {
        if let at = allocateRetryAt, now >= at, state == .allocating {
            allocateRetryAt = nil
            do throws(TURNError) {
                try startTransaction(.allocate, now: now)
            } catch {
                fail(.timeout)
                return
            }
        }

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

        guard state == .allocated else { return }
        if let exp = expiresAt, now >= exp {
            fail(.expired)
            return
        }
        if let at = refreshAt, now >= at,
           !hasTransaction({ if case .refresh = $0 { return true } else { return false } }) {
            do throws(TURNError) {
                try startTransaction(.refresh(lifetime: configuration.requestedLifetime), now: now)
                refreshAt = nil
            } catch {
                refreshAt = now + TURNTiming.busyRetry
            }
        }
        for p in permissions.indices {
            guard !permissions[p].inFlight, let at = permissions[p].refreshAt, now >= at else { continue }
            do throws(TURNError) {
                try startTransaction(.createPermission(permissions[p].ip), now: now)
                permissions[p].inFlight = true
            } catch {
                permissions[p].refreshAt = now + TURNTiming.busyRetry
            }
        }
        for c in channels.indices {
            guard !channels[c].inFlight, let at = channels[c].refreshAt, now >= at else { continue }
            do throws(TURNError) {
                try startTransaction(.channelBind(channel: channels[c].number, peer: channels[c].peer), now: now)
                channels[c].inFlight = true
            } catch {
                channels[c].refreshAt = now + TURNTiming.busyRetry
            }
        }
        // Last, so that a request sent just above counts as the keepalive.
        if let at = keepaliveAt, now >= at { sendKeepalive(now: now) }
    }

    func hasTransaction(_ match: (RequestKind) -> Bool) -> Bool {
        for t in transactions where match(t.kind) { return true }
        return false
    }

    // MARK: - Transactions

    /// Starts a new transaction (fresh id) and sends its first request.
    func startTransaction(_ kind: RequestKind, now: Instant, staleRetries: Int = 0) throws(TURNError) {
        guard transactions.count < configuration.capacities.transactions else {
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
