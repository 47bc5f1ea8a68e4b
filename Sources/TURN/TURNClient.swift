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
    var realm = BoundedBytes(capacity: 763)
    var nonce = BoundedBytes(capacity: 763)
    /// PASSWORD-ALGORITHMS exactly as the server sent it, echoed in every request (§9.2.4).
    var passwordAlgorithms = BoundedBytes(capacity: 256)
    var key: IntegrityKey? = nil

    var transactions: BoundedArray<Transaction>
    var permissions: BoundedArray<Permission>
    var channels: BoundedArray<Channel>
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

    public init(server: TransportAddress, username: String, password: String,
                configuration: TURNConfiguration = TURNConfiguration(), random: R) {
        self.server = server
        self.configuration = configuration
        self.random = random
        var u = username
        self.username = u.withUTF8 { Array($0) }
        self.password = password
        let caps = configuration.capacities
        transactions = BoundedArray(capacity: caps.transactions)
        permissions = BoundedArray(capacity: caps.permissions)
        channels = BoundedArray(capacity: caps.channels)
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
        pollTransactionTimers(now: now)
        guard state == .allocated else { return }
        if let exp = expiresAt, now >= exp {
            fail(.expired)
            return
        }
        refreshAllocationIfDue(now: now)
        refreshPermissionsAndChannelsIfDue(now: now)
        // Last, so that a request sent just above counts as the keepalive.
        if let at = keepaliveAt, now >= at { sendKeepalive(now: now) }
    }
}
