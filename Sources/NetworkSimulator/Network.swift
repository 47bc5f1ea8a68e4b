// A deterministic network simulator for sans-IO UDP endpoints (docs/ARCHITECTURE.md, "Tests").
//
// Everything runs on one thread on a virtual clock: no sockets, no real time. Given the same
// topology, endpoints and seed, two runs produce the same datagrams at the same instants (and
// the same `trace`).
//
// ENDPOINTS
//   protocol SimulatedEndpoint: AnyObject          -- what lives on a host (an ICE agent, a STUN
//       receive(_:from:to:now:)                      server, a test probe). `from`/`to` are the
//       pollTransmit() -> (from, to, bytes)?         addresses as seen on the wire at that host,
//       handleTimeout(now:)                          i.e. after any NAT translation.
//       nextDeadline: Instant?
//   StunServerEndpoint(address:)                    -- BindingResponder on one address.
//   TurnServerEndpoint(address:credentials:)        -- RFC 8656 TURN server; relayed addresses
//                                                      are ports of its host (attach it without
//                                                      `addresses`).
//   AgentEndpoint (+ `relay: RelayConfiguration`)   -- an ICE agent with trickle signaling, and
//                                                      a relayed candidate through TURNClient.
//   Scenario(left:right:relay:)                     -- two agents, STUN (and TURN) servers.
//   EchoEndpoint, ProbeEndpoint                     -- test helpers (Tests/ICETests/Simulator/
//                                                      TestEndpoints.swift).
//
// TOPOLOGY
//   let net = Network(seed: 1)
//   let nat  = net.addNAT(name: "home", publicAddress: ip("203.0.113.1"), type: .symmetric)
//              // or mapping: .endpointIndependent, filtering: .addressDependent,
//              //    bindingTimeout: .seconds(120), behind: carrierNAT
//   let alice = net.addHost(name: "alice", addresses: [ip("192.168.1.2")], behind: nat)
//   let stun  = net.addHost(name: "stun", addresses: [ip("198.51.100.1")])
//   net.attach(agent, to: alice)                               // any port on alice's addresses
//   net.attach(server, to: stun, addresses: [server.address])  // only those transport addresses
//   net.addSite(name:, placement: NATPlacement, ...)            // host (+ NAT) for matrix tests
//
//   Realms: the public internet is one realm; each NAT has its own inner (private) realm.
//   Private addresses may repeat across realms. Routing a datagram in a realm: if a host there
//   owns the destination IP, it goes to that host; if a NAT's public address there matches,
//   it goes into that NAT (inbound translation + filtering, then routing in its inner realm);
//   otherwise, in a NAT's inner realm, it leaves through that NAT (outbound mapping, then
//   routing in the outer realm); otherwise (public internet) it is dropped as no-route. So a
//   private address of another realm is unreachable, and a private host sending to its own
//   NAT's public address is hairpinned: translated out, then back in through the filter, and
//   the receiver sees the sender's external mapping (RFC 4787 REQ-9). `nat.hairpinning = false`
//   drops those instead. A NAT translates only its public address's family.
//
// NAT (RFC 4787): mapping EIM/ADM/APDM = one external port per internal endpoint / per
//   (endpoint, destination IP) / per (endpoint, destination IP:port); ports are allocated
//   sequentially from `portRange` (49152 first). Filtering EIF/ADF/APDF on inbound: any source /
//   a source IP the mapping has sent to / a source IP:port it has sent to. Outbound traffic
//   refreshes a mapping; after `bindingTimeout` idle it expires (inbound is then dropped, and
//   the next outbound gets a new port). A NAT's state changes when a datagram reaches it.
//
// LINKS: each host has an access link to its realm (`uplink` and `downlink`, or `link` for
//   both; default `network.defaultHostLink` = 10 ms one way, no loss); each NAT has a link to
//   its outer realm (default instantaneous). A datagram crosses the sender's uplink, each NAT
//   link on the way, and the receiver's downlink; each crossing may lose it, or add latency +
//   jitter (+ reorder delay). So host-to-host one way = sum of the hops: by default 20 ms, an
//   RTT of 40 ms; for a 300 ms RTT between two hosts give each `.latency(.milliseconds(75))`.
//   `host.link.loss = 0.2` loses 20% each way on that host's link.
//   `network.blocked = { from, to, bytes in ... }` drops chosen datagrams at the sender.
//
// DRIVING
//   net.run(until: Instant)  net.run(for: Interval)    -- clock ends exactly at the deadline
//   net.run(until:while:) -> Bool                      -- true if stopped because the condition
//                                                         turned false
//   net.runUntil(timeout:_:) -> Bool                   -- true if the condition became true; the
//                                                         clock stays at that instant
//   Loop: poll every endpoint's transmits until nil (attach order) and inject them; deliver the
//   earliest due datagram hop (FIFO among equal times); else call handleTimeout(now:) on the
//   first endpoint whose nextDeadline <= now; else advance the clock to the earliest pending
//   hop or deadline. The condition is checked after each step. An endpoint still due right
//   after its handleTimeout(now:) (the deadline invariant), or more than `maxStepsPerInstant`
//   steps at one instant, stops the test with a precondition failure.
//
// OBSERVING: `counters` (sent, delivered, droppedLoss, droppedNATFiltering, droppedNoRoute,
//   droppedNoListener, droppedBlocked); `records` (one per datagram: times, original and
//   final addresses, NAT notes, outcome) when `isTracing` (default on); `trace` renders them,
//   one line per datagram. `nat.activeMappings(now:)` lists a NAT's live mappings.
//
// WRAPPING A SANS-IO AGENT: a small final class holding the agent, conforming to
//   SimulatedEndpoint: receive -> `bytes.withUnsafeBytes { agent.handle(packet: $0, ...) }`,
//   pollTransmit -> copy the agent's transmit into [UInt8] (the network copies nothing else and
//   calls nothing on the endpoint in between), handleTimeout/nextDeadline forwarded. Attach it
//   without `addresses` (it owns every port of its host) or with its host candidates' bases.
//   NAT matrix: `for a in NATPlacement.matrix { for b in NATPlacement.matrix { ... } }` with
//   `net.addSite(name:placement:publicAddress:privateAddress:)` per side (distinct public and
//   private addresses) and `NATPlacement.directConnectivityExpected(a, b)` as the oracle.

import Common

/// Anything that lives on a simulated host and speaks UDP, sans-IO.
public protocol SimulatedEndpoint: AnyObject {
    /// A datagram arrived for one of this endpoint's local addresses.
    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant)
    /// Next datagram the endpoint wants to send (source must be one of its local addresses), or nil.
    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])?
    func handleTimeout(now: Instant)
    var nextDeadline: Instant? { get }
}

/// Parses a textual IP address, trapping on typos (test topologies are literals).
public func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { preconditionFailure("not an IP address: \(text)") }
    return a
}

/// Parses "ip:port" or "[v6]:port", trapping on typos.
public func addr(_ text: String) -> TransportAddress {
    guard let a = TransportAddress(text) else { preconditionFailure("not a transport address: \(text)") }
    return a
}

/// Why a datagram did not arrive.
public enum DropKind: Hashable, Sendable, CustomStringConvertible {
    case loss, natFiltering, noRoute, noListener, blocked

    public var description: String {
        switch self {
        case .loss: return "lost"
        case .natFiltering: return "NAT-filtered"
        case .noRoute: return "no route"
        case .noListener: return "no listener"
        case .blocked: return "blocked"
        }
    }
}

public struct NetworkCounters: Equatable, Sendable, CustomStringConvertible {
    public var sent = 0
    public var delivered = 0
    public var droppedLoss = 0
    public var droppedNATFiltering = 0
    public var droppedNoRoute = 0
    public var droppedNoListener = 0
    public var droppedBlocked = 0

    public init(sent: Int = 0, delivered: Int = 0, droppedLoss: Int = 0, droppedNATFiltering: Int = 0,
                droppedNoRoute: Int = 0, droppedNoListener: Int = 0, droppedBlocked: Int = 0) {
        self.sent = sent
        self.delivered = delivered
        self.droppedLoss = droppedLoss
        self.droppedNATFiltering = droppedNATFiltering
        self.droppedNoRoute = droppedNoRoute
        self.droppedNoListener = droppedNoListener
        self.droppedBlocked = droppedBlocked
    }

    var dropped: Int { droppedLoss + droppedNATFiltering + droppedNoRoute + droppedNoListener + droppedBlocked }
    /// Datagrams still on their way.
    var inFlight: Int { sent - delivered - dropped }

    public var description: String {
        "sent \(sent), delivered \(delivered), lost \(droppedLoss), NAT-filtered \(droppedNATFiltering), "
            + "no route \(droppedNoRoute), no listener \(droppedNoListener), blocked \(droppedBlocked)"
    }
}

/// A machine with one or more interface addresses, on the public internet or behind a NAT.
public final class Host {
    let name: String
    let addresses: [IPAddress]
    /// The NAT whose private realm this host is in, nil on the public internet.
    public let nat: NAT?
    public var uplink: LinkConditions
    var downlink: LinkConditions
    /// Both directions at once (reads the uplink).
    public var link: LinkConditions {
        get { uplink }
        set { uplink = newValue; downlink = newValue }
    }

    /// Endpoints bound to exact transport addresses, and the one taking everything else.
    var bound: [TransportAddress: Int] = [:]
    var wildcard: Int?

    init(name: String, addresses: [IPAddress], nat: NAT?, link: LinkConditions) {
        self.name = name
        self.addresses = addresses
        self.nat = nat
        self.uplink = link
        self.downlink = link
    }

    /// The first interface address.
    public var address: IPAddress { addresses[0] }

    /// A transport address on interface `interface` (index into `addresses`).
    public func transportAddress(port: UInt16, interface: Int = 0) -> TransportAddress {
        TransportAddress(addresses[interface], port)
    }
}

/// One routing domain: the public internet (`gateway == nil`) or a NAT's private side.
final class Realm {
    enum Owner {
        case host(Host)
        case nat(NAT)
    }

    let gateway: NAT?
    var owners: [IPAddress: Owner] = [:]
    init(gateway: NAT?) { self.gateway = gateway }
    var name: String { gateway.map { "inside \($0.name)" } ?? "public internet" }
}

/// What became of one datagram (one record per datagram when tracing).
public struct DatagramRecord: Equatable {
    public enum Outcome: Equatable {
        case delivered(endpoint: String)
        case dropped(DropKind, reason: String)
    }

    public var id: Int
    public var sentAt: Instant
    /// When it was delivered or dropped.
    var time: Instant
    var sender: String
    /// As sent.
    var from: TransportAddress
    var to: TransportAddress
    /// As last seen (after NAT translations).
    public var finalFrom: TransportAddress
    var finalTo: TransportAddress
    var size: Int
    var summary: String
    /// NAT translations on the way, in order.
    public var notes: [String]
    public var outcome: Outcome

    var delivered: Bool { if case .delivered = outcome { return true } else { return false } }

    var line: String {
        var s = "\(formatTime(time)) #\(id) \(sender) \(from) -> \(to) \(summary)"
        for n in notes { s += " | \(n)" }
        switch outcome {
        case .delivered(let endpoint):
            s += " | delivered to \(endpoint)"
            if finalFrom != from || finalTo != to { s += " as \(finalFrom) -> \(finalTo)" }
        case .dropped(let kind, let reason):
            s += " | DROPPED \(kind): \(reason)"
        }
        if sentAt != time { s += " (sent \(formatTime(sentAt)))" }
        return s
    }
}

/// "12.345ms" from the origin of the virtual clock.
func formatTime(_ t: Instant) -> String {
    let micros = t.nanoseconds / 1_000
    let frac = String(micros % 1_000)
    return "\(micros / 1_000).\(String(repeating: "0", count: 3 - frac.count))\(frac)ms"
}

public final class Network {
    /// The virtual clock; starts at zero and only moves inside `run`.
    public private(set) var now: Instant = .zero
    /// Draws loss, jitter and reordering.
    var random: SeededRandom
    /// The access link given to hosts added from now on.
    public var defaultHostLink = LinkConditions.default
    public private(set) var counters = NetworkCounters()

    var isTracing = true
    public private(set) var records: [DatagramRecord] = []
    /// Short description of a payload for the trace.
    var describePayload: ([UInt8]) -> String = describeDatagram
    /// Datagrams for which this returns true are dropped as they are sent.
    public var blocked: ((_ from: TransportAddress, _ to: TransportAddress, _ bytes: [UInt8]) -> Bool)?

    /// Loop guards (see the file header).
    var maxStepsPerInstant = 200_000
    var maxTransmitsPerPoll = 100_000

    private(set) var hosts: [Host] = []
    private(set) var nats: [NAT] = []
    private let publicRealm = Realm(gateway: nil)
    private var innerRealms: [ObjectIdentifier: Realm] = [:]

    private struct Attached {
        var endpoint: any SimulatedEndpoint
        var host: Host
        var name: String
        var addresses: [TransportAddress]?
    }
    private var endpoints: [Attached] = []

    private struct Datagram {
        var id: Int
        var bytes: [UInt8]
        var sentAt: Instant
        var sender: String
        var originalFrom: TransportAddress
        var originalTo: TransportAddress
        var from: TransportAddress
        var to: TransportAddress
        var notes: [String] = []
    }

    private enum Hop {
        /// Reaches the routing point of a realm (after the sender's or a NAT's uplink).
        case realm(Realm)
        /// Reaches a NAT's public side (after its downlink).
        case natInbound(NAT)
        /// Reaches a host (after its downlink).
        case host(Host)
    }

    private struct Event {
        var datagram: Datagram
        var hop: Hop
    }

    private var events = EventQueue<Event>()
    private var nextDatagramID = 0

    public init(seed: UInt64 = 1) {
        random = SeededRandom(seed: seed)
    }

    // MARK: Topology

    private func realm(inside nat: NAT?) -> Realm {
        guard let nat else { return publicRealm }
        return innerRealms[ObjectIdentifier(nat)]!
    }

    private func claim(_ address: IPAddress, in realm: Realm, for owner: Realm.Owner, _ what: String) {
        if realm.owners[address] != nil {
            preconditionFailure("Network: \(address) is already used \(realm.name) (adding \(what))")
        }
        realm.owners[address] = owner
    }

    @discardableResult
    public func addNAT(name: String, publicAddress: IPAddress, mapping: NATBehavior, filtering: NATBehavior,
                bindingTimeout: Interval = .seconds(120), behind outer: NAT? = nil) -> NAT {
        addNAT(name: name, publicAddress: publicAddress, type: NATType(mapping: mapping, filtering: filtering),
               bindingTimeout: bindingTimeout, behind: outer)
    }

    @discardableResult
    public func addNAT(name: String, publicAddress: IPAddress, type: NATType,
                bindingTimeout: Interval = .seconds(120), behind outer: NAT? = nil) -> NAT {
        let nat = NAT(name: name, publicAddress: publicAddress, type: type, bindingTimeout: bindingTimeout, behind: outer)
        claim(publicAddress, in: realm(inside: outer), for: .nat(nat), "NAT \(name)")
        innerRealms[ObjectIdentifier(nat)] = Realm(gateway: nat)
        nats.append(nat)
        return nat
    }

    @discardableResult
    public func addHost(name: String, addresses: [IPAddress], behind nat: NAT? = nil) -> Host {
        precondition(!addresses.isEmpty, "Network: host \(name) needs at least one address")
        let host = Host(name: name, addresses: addresses, nat: nat, link: defaultHostLink)
        for a in addresses { claim(a, in: realm(inside: nat), for: .host(host), "host \(name)") }
        hosts.append(host)
        return host
    }

    /// A host at `placement`: on the public internet at `publicAddress`, or at
    /// `privateAddress` behind a new NAT named "\(name)-nat" whose public address is
    /// `publicAddress`.
    @discardableResult
    public func addSite(name: String, placement: NATPlacement, publicAddress: IPAddress, privateAddress: IPAddress,
                 bindingTimeout: Interval = .seconds(120)) -> Host {
        guard let type = placement.natType else { return addHost(name: name, addresses: [publicAddress]) }
        let nat = addNAT(name: "\(name)-nat", publicAddress: publicAddress, type: type, bindingTimeout: bindingTimeout)
        return addHost(name: name, addresses: [privateAddress], behind: nat)
    }

    /// Puts `endpoint` on `host`. With `addresses`, it receives only datagrams to those exact
    /// transport addresses and may only send from them; without, it owns every port of the
    /// host's addresses that no other endpoint bound (one such endpoint per host).
    public func attach(_ endpoint: some SimulatedEndpoint, to host: Host, addresses: [TransportAddress]? = nil,
                name: String? = nil) {
        precondition(!endpoints.contains { $0.endpoint === endpoint }, "Network: endpoint attached twice")
        let index = endpoints.count
        let label = name ?? (host.bound.isEmpty && host.wildcard == nil ? host.name : "\(host.name)#\(index)")
        if let addresses {
            for a in addresses {
                precondition(host.addresses.contains(a.ip), "Network: \(a) is not an address of host \(host.name)")
                precondition(host.bound[a] == nil, "Network: \(a) is already bound on host \(host.name)")
                host.bound[a] = index
            }
        } else {
            precondition(host.wildcard == nil, "Network: host \(host.name) already has an endpoint for all ports")
            host.wildcard = index
        }
        endpoints.append(Attached(endpoint: endpoint, host: host, name: label, addresses: addresses))
    }

    // MARK: Driving

    /// Runs until `deadline` (inclusive); the clock then reads `deadline`.
    public func run(until deadline: Instant) {
        _ = loop(until: deadline, stop: { false })
    }

    public func run(for duration: Interval) {
        run(until: now + duration)
    }

    /// Runs while `condition` holds, up to `deadline`. Returns true if it stopped because the
    /// condition turned false (the clock then reads that instant), false at the deadline.
    @discardableResult
    public func run(until deadline: Instant, while condition: () -> Bool) -> Bool {
        loop(until: deadline, stop: { !condition() })
    }

    /// Runs until `condition` holds, for at most `timeout`. Returns whether it became true;
    /// the clock then reads the instant it did (or now + timeout).
    @discardableResult
    public func runUntil(timeout: Interval, _ condition: () -> Bool) -> Bool {
        loop(until: now + timeout, stop: condition)
    }

    private func loop(until deadline: Instant, stop: () -> Bool) -> Bool {
        precondition(deadline >= now, "Network: cannot run until \(formatTime(deadline)), it is already \(formatTime(now))")
        var steps = 0
        while true {
            flushTransmits()
            if stop() { return true }

            steps += 1
            if steps > maxStepsPerInstant {
                preconditionFailure("Network: more than \(maxStepsPerInstant) steps at \(formatTime(now)); "
                                        + "endpoints keep exchanging datagrams with zero delay or timers at now")
            }
            if let (_, event) = events.popIfDue(at: now) {
                process(event)
                continue
            }
            if let i = endpoints.indices.first(where: { endpoints[$0].endpoint.nextDeadline.map { $0 <= now } ?? false }) {
                endpoints[i].endpoint.handleTimeout(now: now)
                // The deadline invariant (what keeps a real event loop from spinning): after
                // handleTimeout(now:), nextDeadline is nil or later than now.
                if let d = endpoints[i].endpoint.nextDeadline, d <= now {
                    preconditionFailure("Network: endpoint \(endpoints[i].name) reports nextDeadline \(formatTime(d)) "
                                            + "<= now \(formatTime(now)) right after handleTimeout(now:)")
                }
                continue
            }

            var next = events.nextTime
            for e in endpoints {
                if let d = e.endpoint.nextDeadline, next.map({ d < $0 }) ?? true { next = d }
            }
            guard let next, next <= deadline else {
                now = deadline
                return false
            }
            now = next
            steps = 0
        }
    }

    private func flushTransmits() {
        for i in endpoints.indices {
            var n = 0
            while let t = endpoints[i].endpoint.pollTransmit() {
                n += 1
                if n > maxTransmitsPerPoll {
                    preconditionFailure("Network: endpoint \(endpoints[i].name) returned more than "
                                            + "\(maxTransmitsPerPoll) datagrams in one poll")
                }
                send(t.bytes, from: t.from, to: t.to, by: endpoints[i])
            }
        }
    }

    // MARK: Datagrams

    private func send(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, by e: Attached) {
        let host = e.host
        precondition(host.addresses.contains(from.ip),
                     "Network: endpoint \(e.name) sent from \(from), which is not an address of host \(host.name)")
        precondition(from.port != 0 && to.port != 0, "Network: endpoint \(e.name) sent \(from) -> \(to) with port 0")
        if let own = e.addresses {
            precondition(own.contains(from), "Network: endpoint \(e.name) sent from \(from), not one of its addresses")
        } else {
            precondition(host.bound[from] == nil,
                         "Network: endpoint \(e.name) sent from \(from), which another endpoint of \(host.name) bound")
        }
        counters.sent += 1
        let d = Datagram(id: nextDatagramID, bytes: bytes, sentAt: now, sender: e.name,
                         originalFrom: from, originalTo: to, from: from, to: to)
        nextDatagramID += 1
        if let blocked, blocked(from, to, bytes) {
            finish(d, .dropped(.blocked, reason: "blocked by rule"))
            return
        }
        cross(host.uplink, "\(host.name) uplink", d, .realm(realm(inside: host.nat)))
    }

    private func cross(_ link: LinkConditions, _ name: String, _ d: Datagram, _ hop: Hop) {
        guard let delay = link.sample(&random) else {
            finish(d, .dropped(.loss, reason: "lost on \(name)"))
            return
        }
        events.push(Event(datagram: d, hop: hop), at: now + delay)
    }

    private func process(_ event: Event) {
        var d = event.datagram
        switch event.hop {
        case .realm(let realm):
            route(d, in: realm)
        case .natInbound(let nat):
            switch nat.inbound(from: d.from, to: d.to, now: now) {
            case .translated(let inside, let note):
                d.to = inside
                d.notes.append(note)
                route(d, in: self.realm(inside: nat))
            case .dropped(let kind, let reason):
                finish(d, .dropped(kind, reason: reason))
            }
        case .host(let host):
            guard let index = host.bound[d.to] ?? host.wildcard else {
                finish(d, .dropped(.noListener, reason: "nothing listens on \(d.to) at \(host.name)"))
                return
            }
            let e = endpoints[index]
            finish(d, .delivered(endpoint: e.name))
            e.endpoint.receive(d.bytes, from: d.from, to: d.to, now: now)
        }
    }

    private func route(_ d: Datagram, in realm: Realm) {
        var d = d
        switch realm.owners[d.to.ip] {
        case .host(let host):
            cross(host.downlink, "\(host.name) downlink", d, .host(host))
        case .nat(let nat):
            cross(nat.downlink, "\(nat.name) downlink", d, .natInbound(nat))
        case nil:
            guard let nat = realm.gateway else {
                finish(d, .dropped(.noRoute, reason: "nobody owns \(d.to.ip) on the \(realm.name)"))
                return
            }
            switch nat.outbound(from: d.from, to: d.to, now: now) {
            case .translated(let outside, let note):
                d.from = outside
                d.notes.append(note)
                cross(nat.uplink, "\(nat.name) uplink", d, .realm(self.realm(inside: nat.outerNAT)))
            case .dropped(let kind, let reason):
                finish(d, .dropped(kind, reason: reason))
            }
        }
    }

    private func finish(_ d: Datagram, _ outcome: DatagramRecord.Outcome) {
        switch outcome {
        case .delivered: counters.delivered += 1
        case .dropped(let kind, _):
            switch kind {
            case .loss: counters.droppedLoss += 1
            case .natFiltering: counters.droppedNATFiltering += 1
            case .noRoute: counters.droppedNoRoute += 1
            case .noListener: counters.droppedNoListener += 1
            case .blocked: counters.droppedBlocked += 1
            }
        }
        guard isTracing else { return }
        records.append(DatagramRecord(id: d.id, sentAt: d.sentAt, time: now, sender: d.sender,
                                      from: d.originalFrom, to: d.originalTo, finalFrom: d.from, finalTo: d.to,
                                      size: d.bytes.count, summary: describePayload(d.bytes), notes: d.notes,
                                      outcome: outcome))
    }

    // MARK: Tracing

    /// One line per datagram whose fate is known, in the order they were delivered or dropped.
    public var trace: String { records.map(\.line).joined(separator: "\n") }

    func clearTrace() { records.removeAll() }
}
