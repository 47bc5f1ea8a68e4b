import Common

/// Resolves ".local" names by one-shot mDNS queries (RFC 6762 §5.1), sans-IO: the owner
/// sends what `pollTransmit` gives from one ephemeral-port socket, feeds every datagram that
/// socket receives to `handle`, calls `handleTimeout` at `nextDeadline`, and drains
/// `pollEvent`. Answers are matched by name (RFC 6762 §6), from any source.
public struct MDNSResolution<Random: RandomSource> {
    public struct Configuration: Sendable {
        /// Names resolved at once; `start` refuses more.
        public var maxResolutions = 16
        /// When each query is sent, after `start`. RFC 6762 §5.1 leaves a one-shot querier's
        /// retries to it; the first one goes at once, the later ones cover a lost datagram.
        public var sendAt: [Interval] = [.milliseconds(0), .milliseconds(250), .seconds(1)]
        /// When a name without an answer fails, after `start`.
        public var giveUpAfter: Interval = .seconds(3)
        /// One query per type, each with a single question: some responders (Chromium's,
        /// which answers for the browser's own ".local" names) read one question per query.
        public var types: [MDNSRecordType] = [.a, .aaaa]
        /// Where queries go: the IPv4 group by default (RFC 6762 §3); add
        /// `TransportAddress(MDNSWire.groupV6, MDNSWire.port)` when the socket is IPv6.
        public var destinations: [TransportAddress] = [TransportAddress(MDNSWire.groupV4, MDNSWire.port)]
        public init() {}
    }

    public enum Event: Equatable, Sendable {
        /// The name's addresses (at least one; at most `MDNSResponse.maxAddressRecords`).
        case resolved(MDNSName, [IPAddress])
        /// No answer before `giveUpAfter`.
        case failed(MDNSName)
    }

    public struct Transmit: Sendable {
        public let bytes: [UInt8]
        public let destination: TransportAddress
    }

    struct Pending {
        let name: MDNSName
        let id: UInt16
        let started: Instant
        /// Index in `sendAt` of the next query.
        var nextSend: Int
    }

    public let configuration: Configuration
    var random: Random
    var pending: [Pending] = []
    var transmits = PollQueue<Transmit>()
    var events = PollQueue<Event>()

    public init(configuration: Configuration = Configuration(), random: Random) {
        self.configuration = configuration
        self.random = random
        pending.reserveCapacity(configuration.maxResolutions)
    }

    /// Names being resolved.
    public var count: Int { pending.count }

    public func isResolving(_ name: MDNSName) -> Bool { pending.contains { $0.name == name } }

    /// Starts resolving `name`; its first queries are ready at once. A name already being
    /// resolved is left as it is.
    public mutating func start(_ name: MDNSName, now: Instant) throws(MDNSError) {
        if isResolving(name) { return }
        guard pending.count < configuration.maxResolutions else { throw .tooManyResolutions }
        // RFC 6762 §6.7: a legacy unicast answer repeats the id; a random one makes a blind
        // spoofer guess it as well as the port.
        let id = UInt16(truncatingIfNeeded: random.next())
        pending.append(Pending(name: name, id: id, started: now, nextSend: 0))
        sendDue(now: now)
    }

    /// Stops resolving `name`, without an event.
    public mutating func cancel(_ name: MDNSName) {
        pending.removeAll { $0.name == name }
    }

    public mutating func pollTransmit() -> Transmit? { transmits.pop() }
    public mutating func pollEvent() -> Event? { events.pop() }

    /// A datagram received on the querying socket. Throws the parse error of a malformed one
    /// (to count or log; it changes nothing). An answer with the name's id, or id 0 (RFC 6762
    /// §18.1: multicast responses carry 0), and at least one live address resolves it.
    public mutating func handle(datagram: UnsafeRawBufferPointer, now: Instant) throws(MDNSError) {
        let response = try MDNSResponse(parsing: datagram)
        var k = 0
        while k < pending.count {
            let p = pending[k]
            if response.id == p.id || response.id == 0 {
                let addresses = response.addresses(for: p.name)
                if !addresses.isEmpty {
                    pending.remove(at: k)
                    events.push(.resolved(p.name, addresses))
                    continue
                }
            }
            k += 1
        }
    }

    /// The earliest query to send or name to fail; nil when nothing is pending.
    public var nextDeadline: Instant? {
        var next: Instant? = nil
        for p in pending {
            var d = p.started + configuration.giveUpAfter
            if p.nextSend < configuration.sendAt.count {
                let s = p.started + configuration.sendAt[p.nextSend]
                if s < d { d = s }
            }
            if next == nil || d < next! { next = d }
        }
        return next
    }

    public mutating func handleTimeout(now: Instant) {
        var k = 0
        while k < pending.count {
            if now >= pending[k].started + configuration.giveUpAfter {
                events.push(.failed(pending[k].name))
                pending.remove(at: k)
                continue
            }
            k += 1
        }
        sendDue(now: now)
    }

    /// Queues the queries that are due; a query that fell behind (a late timeout) is sent
    /// once, not once per missed slot.
    mutating func sendDue(now: Instant) {
        for k in pending.indices {
            let p = pending[k]
            var due = false
            var n = p.nextSend
            while n < configuration.sendAt.count, p.started + configuration.sendAt[n] <= now {
                due = true
                n += 1
            }
            guard due else { continue }
            pending[k].nextSend = n
            for t in configuration.types {
                let bytes = MDNSQuery.build(name: p.name, types: [t], id: p.id)
                for d in configuration.destinations { transmits.push(Transmit(bytes: bytes, destination: d)) }
            }
        }
    }
}
