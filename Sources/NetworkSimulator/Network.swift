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
//   NAT matrix: `for a in NATPlacement.allCases { for b in NATPlacement.allCases { ... } }`
//   with `net.addSite(name:placement:publicAddress:privateAddress:)` per side (distinct public
//   and private addresses); ICETests holds the oracle (`directConnectivityExpected`).

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

public final class Network {
    /// The virtual clock; starts at zero and only moves inside `run`.
    public private(set) var now: Instant = .zero
    /// Draws loss, jitter and reordering.
    var random: SeededRandom
    /// The access link given to hosts added from now on.
    public var defaultHostLink = LinkConditions.default
    public internal(set) var counters = NetworkCounters()

    var isTracing = true
    public internal(set) var records: [DatagramRecord] = []
    /// Short description of a payload for the trace.
    var describePayload: ([UInt8]) -> String = describeDatagram
    /// Datagrams for which this returns true are dropped as they are sent.
    public var blocked: ((_ from: TransportAddress, _ to: TransportAddress, _ bytes: [UInt8]) -> Bool)?

    /// Loop guards (see the file header).
    var maxStepsPerInstant = 200_000
    var maxTransmitsPerPoll = 100_000

    var hosts: [Host] = []
    var nats: [NAT] = []
    let publicRealm = Realm(gateway: nil)
    var innerRealms: [ObjectIdentifier: Realm] = [:]

    var endpoints: [Attached] = []

    var events = EventQueue<Event>()
    var nextDatagramID = 0

    public init(seed: UInt64 = 1) {
        random = SeededRandom(seed: seed)
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

    func loop(until deadline: Instant, stop: () -> Bool) -> Bool {
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

    func flushTransmits() {
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
}
