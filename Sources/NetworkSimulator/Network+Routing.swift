import Common

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

/// A datagram's way from its sender to its receiver: links, realms, NAT translations, and the
/// record of what became of it.
extension Network {
    struct Datagram {
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

    enum Hop {
        /// Reaches the routing point of a realm (after the sender's or a NAT's uplink).
        case realm(Realm)
        /// Reaches a NAT's public side (after its downlink).
        case natInbound(NAT)
        /// Reaches a host (after its downlink).
        case host(Host)
    }

    struct Event {
        var datagram: Datagram
        var hop: Hop
    }

    func send(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, by e: Attached) {
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

    func cross(_ link: LinkConditions, _ name: String, _ d: Datagram, _ hop: Hop) {
        guard let delay = link.sample(&random) else {
            finish(d, .dropped(.loss, reason: "lost on \(name)"))
            return
        }
        events.push(Event(datagram: d, hop: hop), at: now + delay)
    }

    func process(_ event: Event) {
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

    func route(_ d: Datagram, in realm: Realm) {
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

    func finish(_ d: Datagram, _ outcome: DatagramRecord.Outcome) {
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

    /// One line per datagram whose fate is known, in the order they were delivered or dropped.
    public var trace: String { records.map(\.line).joined(separator: "\n") }

    func clearTrace() { records.removeAll() }
}
