import Common
import NetworkSimulator
import STUN
import Testing

/// Instant at `ms` milliseconds of virtual time.
private func ms(_ ms: Int64) -> Instant { .zero + .milliseconds(ms) }

/// A client behind an optional NAT, two STUN servers (one with a second port), a stranger on
/// the internet and a listener on the first server's IP at another port.
private final class Lab {
    let net: Network
    let nat: NAT?
    let client: ProbeEndpoint
    let clientHost: Host
    let clientAddress = addr("192.168.1.2:5000")
    let stun1: StunServerEndpoint
    let stun1b: StunServerEndpoint
    let stun2: StunServerEndpoint
    /// 198.51.100.9:7000, has never been contacted.
    let stranger = ProbeEndpoint()
    let strangerAddress = addr("198.51.100.9:7000")
    /// 198.51.100.1:4000: same IP as stun1, another port.
    let neighbour = ProbeEndpoint()
    let neighbourAddress = addr("198.51.100.1:4000")
    var nextID: UInt64 = 1

    init(_ type: NATType?, seed: UInt64 = 1, bindingTimeout: Interval = .seconds(120)) {
        let net = Network(seed: seed)
        let nat = type.map { net.addNAT(name: "nat", publicAddress: ip("203.0.113.1"), type: $0, bindingTimeout: bindingTimeout) }
        let clientIP = nat == nil ? ip("203.0.113.50") : ip("192.168.1.2")
        self.net = net
        self.nat = nat
        clientHost = net.addHost(name: "client", addresses: [clientIP], behind: nat)
        client = ProbeEndpoint()
        net.attach(client, to: clientHost)
        let s1 = net.addHost(name: "stun1", addresses: [ip("198.51.100.1")])
        let s2 = net.addHost(name: "stun2", addresses: [ip("198.51.100.2")])
        stun1 = StunServerEndpoint(address: addr("198.51.100.1:3478"))
        stun1b = StunServerEndpoint(address: addr("198.51.100.1:3479"))
        stun2 = StunServerEndpoint(address: addr("198.51.100.2:3478"))
        net.attach(stun1, to: s1, addresses: [stun1.address], name: "stun1")
        net.attach(stun1b, to: s1, addresses: [stun1b.address], name: "stun1b")
        net.attach(stun2, to: s2, addresses: [stun2.address], name: "stun2")
        net.attach(neighbour, to: s1, addresses: [neighbourAddress], name: "neighbour")
        net.attach(stranger, to: net.addHost(name: "stranger", addresses: [strangerAddress.ip]), name: "stranger")
    }

    var source: TransportAddress { nat == nil ? TransportAddress(clientHost.address, 5000) : clientAddress }

    /// Sends a Binding request from the client to `server` and runs until the answer; returns
    /// the mapped address.
    func mappedAddress(via server: StunServerEndpoint) -> TransportAddress? {
        let id = TransactionID(high: 0, low: nextID)
        nextID += 1
        client.send(stunBindingRequest(id), from: source, to: server.address)
        let client = self.client
        guard net.runUntil(timeout: .seconds(1), { client.received.contains { stunBindingResult($0.bytes)?.id == id } })
        else { return nil }
        return client.received.lazy.compactMap { stunBindingResult($0.bytes) }.first { $0.id == id }?.mapped
    }
}

@Suite struct SimulatorTests {
    // MARK: Mapping

    @Test(arguments: NATType.allCombinations)
    func stunSeesTheNATsFirstExternalPort(type: NATType) {
        let lab = Lab(type)
        #expect(lab.mappedAddress(via: lab.stun1) == addr("203.0.113.1:49152"))
        #expect(lab.stun1.requestSources == [addr("203.0.113.1:49152")])
        #expect(lab.net.counters == NetworkCounters(sent: 2, delivered: 2))
        #expect(lab.nat!.activeMappings(now: lab.net.now).map(\.internalAddress) == [lab.clientAddress])
    }

    @Test func stunSeesAPublicHostAsItIs() {
        let lab = Lab(nil)
        #expect(lab.mappedAddress(via: lab.stun1) == addr("203.0.113.50:5000"))
    }

    @Test(arguments: NATBehavior.allCases)
    func mappingBehaviour(mapping: NATBehavior) throws {
        let lab = Lab(NATType(mapping: mapping, filtering: .addressAndPortDependent))
        let first = try #require(lab.mappedAddress(via: lab.stun1))
        let samePortOtherIP = try #require(lab.mappedAddress(via: lab.stun2))
        let sameIPOtherPort = try #require(lab.mappedAddress(via: lab.stun1b))
        let again = try #require(lab.mappedAddress(via: lab.stun1))
        #expect(again == first)  // every behaviour reuses the mapping for the same destination
        switch mapping {
        case .endpointIndependent:
            #expect(samePortOtherIP == first && sameIPOtherPort == first)
        case .addressDependent:
            #expect(samePortOtherIP != first && sameIPOtherPort == first)
        case .addressAndPortDependent:
            #expect(Set([first, samePortOtherIP, sameIPOtherPort]).count == 3)
        }
        #expect([first, samePortOtherIP, sameIPOtherPort].allSatisfy { $0.ip == ip("203.0.113.1") })
    }

    @Test func mappingsArePerInternalEndpoint() {
        let lab = Lab(.fullCone)
        let other = ProbeEndpoint()
        let otherHost = lab.net.addHost(name: "other", addresses: [ip("192.168.1.3")], behind: lab.nat)
        lab.net.attach(other, to: otherHost)
        #expect(lab.mappedAddress(via: lab.stun1) == addr("203.0.113.1:49152"))
        other.send(stunBindingRequest(TransactionID(high: 9, low: 9)), from: addr("192.168.1.3:5000"), to: lab.stun1.address)
        lab.net.run(for: .seconds(1))
        #expect(other.mappedAddresses == [addr("203.0.113.1:49153")])
    }

    // MARK: Filtering

    @Test(arguments: NATBehavior.allCases)
    func filteringOfUnsolicitedInbound(filtering: NATBehavior) throws {
        let lab = Lab(NATType(mapping: .endpointIndependent, filtering: filtering))
        let mapped = try #require(lab.mappedAddress(via: lab.stun1))
        lab.stranger.send([1], from: lab.strangerAddress, to: mapped)
        lab.neighbour.send([2], from: lab.neighbourAddress, to: mapped)
        lab.net.run(for: .seconds(1))

        let got = lab.client.received.filter { $0.bytes.count == 1 }
        switch filtering {
        case .endpointIndependent:
            // Same send instant and path delay: they arrive in attach order (neighbour first).
            #expect(got.map(\.bytes) == [[2], [1]])
            #expect(got.map(\.from) == [lab.neighbourAddress, lab.strangerAddress])
            #expect(got.allSatisfy { $0.to == lab.clientAddress })
        case .addressDependent:
            #expect(got.map(\.bytes) == [[2]])  // same IP as the server the client talked to
        case .addressAndPortDependent:
            #expect(got.isEmpty)
        }
        let filtered = lab.net.records.filter { $0.outcome.isDrop(.natFiltering) }
        #expect(filtered.count == 2 - got.count)
        #expect(lab.net.counters.droppedNATFiltering == 2 - got.count)
    }

    @Test func inboundWithoutAnyMappingIsFiltered() {
        let lab = Lab(.fullCone)
        lab.stranger.send([1], from: lab.strangerAddress, to: addr("203.0.113.1:49152"))
        lab.net.run(for: .seconds(1))
        #expect(lab.client.received.isEmpty)
        #expect(lab.net.counters.droppedNATFiltering == 1)
        #expect(lab.net.trace.contains("no mapping for 203.0.113.1:49152"))
    }

    @Test func aReplyOpensAPortRestrictedNAT() throws {
        // The stranger's first datagram is filtered; once the client has sent to the stranger's
        // exact address, the stranger's datagrams get in.
        let lab = Lab(.portRestrictedCone)
        let mapped = try #require(lab.mappedAddress(via: lab.stun1))
        lab.stranger.send([1], from: lab.strangerAddress, to: mapped)
        lab.net.run(for: .milliseconds(100))
        lab.client.send([2], from: lab.clientAddress, to: lab.strangerAddress)
        lab.net.run(for: .milliseconds(100))
        lab.stranger.send([3], from: lab.strangerAddress, to: mapped)
        lab.net.run(for: .milliseconds(100))
        #expect(lab.client.received.filter { $0.bytes.count == 1 }.map(\.bytes) == [[3]])
        #expect(lab.stranger.received.map(\.from) == [mapped])
    }

    // MARK: Binding timeout

    @Test func expiredBindingDropsInboundAndIsReplaced() throws {
        let lab = Lab(.fullCone, bindingTimeout: .seconds(30))
        let mapped = try #require(lab.mappedAddress(via: lab.stun1))  // NAT saw it at 10 ms
        // The mapping was last refreshed at 0.010 s, so it lives until just before 30.010 s.
        // The stranger's uplink is 10 ms: sent at 29.999 s it reaches the NAT at 30.009 s (in
        // time); sent at 30.000 s it reaches the NAT at 30.010 s (expired).
        lab.stranger.send([1], from: lab.strangerAddress, to: mapped, at: ms(29_999))
        lab.stranger.send([2], from: lab.strangerAddress, to: mapped, at: ms(30_000))
        lab.net.run(until: ms(31_000))
        #expect(lab.client.received.filter { $0.bytes.count == 1 }.map(\.bytes) == [[1]])
        #expect(lab.net.trace.contains("expired"))
        #expect(lab.nat!.activeMappings(now: lab.net.now).isEmpty)
        // Outbound after expiry gets a new external port.
        #expect(try #require(lab.mappedAddress(via: lab.stun1)) == addr("203.0.113.1:49153"))
    }

    @Test func outboundTrafficRefreshesTheBinding() throws {
        let lab = Lab(.fullCone, bindingTimeout: .seconds(30))
        let mapped = try #require(lab.mappedAddress(via: lab.stun1))
        lab.client.send([0, 0], from: lab.clientAddress, to: lab.stun1.address, at: ms(20_000))  // keepalive
        lab.stranger.send([1], from: lab.strangerAddress, to: mapped, at: ms(45_000))
        lab.net.run(until: ms(46_000))
        #expect(lab.client.received.filter { $0.bytes.count == 1 }.map(\.bytes) == [[1]])
        // Inbound traffic does not refresh by default: 30 s after the keepalive it is gone.
        lab.stranger.send([2], from: lab.strangerAddress, to: mapped, at: ms(50_005))
        lab.net.run(until: ms(51_000))
        #expect(lab.client.received.filter { $0.bytes.count == 1 }.map(\.bytes) == [[1]])
    }

    // MARK: Loss

    @Test func totalLossDropsEverything() {
        let lab = Lab(.fullCone)
        lab.clientHost.link.loss = 1
        for i in 0..<50 {
            lab.client.send(stunBindingRequest(TransactionID(high: 1, low: UInt64(i))), from: lab.clientAddress,
                            to: lab.stun1.address, at: ms(Int64(i) * 10))
        }
        lab.net.run(for: .seconds(2))
        #expect(lab.stun1.requestSources.isEmpty && lab.client.received.isEmpty)
        #expect(lab.net.counters == NetworkCounters(sent: 50, droppedLoss: 50))
        #expect(lab.nat!.activeMappings(now: lab.net.now).isEmpty)  // lost before the NAT
    }

    /// 1000 echo round trips with 20% loss each way on the client's link.
    private func lossyEchoes(seed: UInt64) -> (serverGot: Int, clientGot: Int, counters: NetworkCounters) {
        let net = Network(seed: seed)
        let a = net.addHost(name: "a", addresses: [ip("203.0.113.5")])
        let b = net.addHost(name: "b", addresses: [ip("198.51.100.5")])
        a.link.loss = 0.2
        let probe = ProbeEndpoint(), echo = EchoEndpoint()
        net.attach(probe, to: a)
        net.attach(echo, to: b)
        for i in 0..<1000 {
            probe.send([UInt8(i & 0xFF), UInt8(i >> 8)], from: addr("203.0.113.5:1000"), to: addr("198.51.100.5:7"),
                       at: ms(Int64(i)))
        }
        net.run(for: .seconds(5))
        return (echo.received.count, probe.received.count, net.counters)
    }

    @Test func twentyPercentLossEachWay() {
        let run = lossyEchoes(seed: 42)
        let upLost = 1000 - run.serverGot, downLost = run.serverGot - run.clientGot
        #expect((170...230).contains(upLost), "lost on the way out: \(upLost)")
        #expect((Double(downLost) / Double(run.serverGot) - 0.2).magnitude < 0.03, "lost on the way back: \(downLost)")
        #expect(run.counters == NetworkCounters(sent: 1000 + run.serverGot, delivered: run.serverGot + run.clientGot,
                                                droppedLoss: upLost + downLost))
        // Same seed, same losses; another seed, other losses.
        let again = lossyEchoes(seed: 42)
        #expect(again.serverGot == run.serverGot && again.clientGot == run.clientGot)
        #expect(lossyEchoes(seed: 43).clientGot != run.clientGot)
    }

    // MARK: Latency

    @Test(arguments: [(Int64(30), Int64(0), Int64(0)), (30, 5, 0), (75, 0, 75), (10, 0, 10)])
    func echoRoundTripIsTwiceTheOneWayLatency(clientMs: Int64, natMs: Int64, serverMs: Int64) {
        let net = Network()
        let nat = net.addNAT(name: "nat", publicAddress: ip("203.0.113.1"), type: .symmetric)
        nat.link = .latency(.milliseconds(natMs))
        let a = net.addHost(name: "a", addresses: [ip("10.0.0.2")], behind: nat)
        let b = net.addHost(name: "b", addresses: [ip("198.51.100.5")])
        a.link = .latency(.milliseconds(clientMs))
        b.link = .latency(.milliseconds(serverMs))
        let probe = ProbeEndpoint(), echo = EchoEndpoint()
        net.attach(probe, to: a)
        net.attach(echo, to: b)
        net.run(for: .milliseconds(123))  // start at an arbitrary instant
        let start = net.now
        probe.send([1, 2, 3], from: addr("10.0.0.2:4000"), to: addr("198.51.100.5:7"))
        #expect(net.runUntil(timeout: .seconds(2)) { !probe.received.isEmpty })
        let oneWay = Interval.milliseconds(clientMs + natMs + serverMs)
        #expect(net.now - start == oneWay * 2)
        #expect(probe.received.first?.time == start + oneWay * 2)
        #expect(echo.received.first?.time == start + oneWay)
        #expect(probe.received.first?.from == addr("198.51.100.5:7"))
    }

    @Test func defaultLinksGiveFortyMillisecondRTT() {
        let net = Network()
        let a = net.addHost(name: "a", addresses: [ip("203.0.113.5")])
        let b = net.addHost(name: "b", addresses: [ip("198.51.100.5")])
        let probe = ProbeEndpoint(), echo = EchoEndpoint()
        net.attach(probe, to: a)
        net.attach(echo, to: b)
        probe.send([1], from: addr("203.0.113.5:1"), to: addr("198.51.100.5:7"))
        net.run(for: .seconds(1))
        #expect(probe.received.map(\.time) == [ms(40)])
        #expect(net.now == ms(1000))
    }

    @Test func jitterAndReorderingLetLaterDatagramsOvertake() {
        func arrivalOrder(_ link: LinkConditions) -> [UInt8] {
            let net = Network(seed: 7)
            let a = net.addHost(name: "a", addresses: [ip("203.0.113.5")])
            let b = net.addHost(name: "b", addresses: [ip("198.51.100.5")])
            a.uplink = link
            let probe = ProbeEndpoint(), sink = ProbeEndpoint()
            net.attach(probe, to: a)
            net.attach(sink, to: b)
            for i in 0..<100 {
                probe.send([UInt8(i)], from: addr("203.0.113.5:1"), to: addr("198.51.100.5:2"), at: ms(Int64(i)))
            }
            net.run(for: .seconds(1))
            return sink.received.map { $0.bytes[0] }
        }
        let fifo = arrivalOrder(.latency(.milliseconds(50)))
        #expect(fifo == (0..<100).map(UInt8.init))
        let reordered = arrivalOrder(LinkConditions(latency: .milliseconds(50), reorder: 0.1, reorderDelay: .milliseconds(5)))
        let jittered = arrivalOrder(LinkConditions(latency: .milliseconds(50), jitter: .milliseconds(5)))
        for order in [reordered, jittered] {
            #expect(order.count == 100 && Set(order).count == 100 && order != fifo)
        }
    }

    // MARK: Routing

    @Test func privateAddressOfAnotherRealmIsUnreachable() {
        let net = Network()
        let nat1 = net.addNAT(name: "nat1", publicAddress: ip("203.0.113.1"), type: .fullCone)
        let nat2 = net.addNAT(name: "nat2", publicAddress: ip("203.0.113.2"), type: .fullCone)
        let a = net.addHost(name: "a", addresses: [ip("192.168.1.2")], behind: nat1)
        let b = net.addHost(name: "b", addresses: [ip("192.168.2.2")], behind: nat2)
        let pub = net.addHost(name: "pub", addresses: [ip("198.51.100.5")])
        let pa = ProbeEndpoint(), pb = ProbeEndpoint(), pp = ProbeEndpoint()
        net.attach(pa, to: a)
        net.attach(pb, to: b)
        net.attach(pp, to: pub)
        pa.send([1], from: addr("192.168.1.2:5000"), to: addr("192.168.2.2:5000"))
        pp.send([2], from: addr("198.51.100.5:5000"), to: addr("192.168.2.2:5000"))
        net.run(for: .seconds(1))
        #expect(pb.received.isEmpty)
        #expect(net.counters == NetworkCounters(sent: 2, droppedNoRoute: 2))
        #expect(net.records.allSatisfy { $0.outcome.isDrop(.noRoute) })
        #expect(net.records.first { $0.id == 0 }?.finalFrom == addr("203.0.113.1:49152"))  // it did leave nat1
    }

    @Test func samePrivateAddressInTwoRealmsStaysLocal() {
        let net = Network()
        let nat1 = net.addNAT(name: "nat1", publicAddress: ip("203.0.113.1"), type: .symmetric)
        let nat2 = net.addNAT(name: "nat2", publicAddress: ip("203.0.113.2"), type: .symmetric)
        let a = net.addHost(name: "a", addresses: [ip("192.168.1.2")], behind: nat1)
        let a2 = net.addHost(name: "a2", addresses: [ip("192.168.1.3")], behind: nat1)
        let b = net.addHost(name: "b", addresses: [ip("192.168.1.3")], behind: nat2)
        let pa = ProbeEndpoint(), pa2 = ProbeEndpoint(), pb = ProbeEndpoint()
        net.attach(pa, to: a)
        net.attach(pa2, to: a2)
        net.attach(pb, to: b)
        pa.send([1], from: addr("192.168.1.2:5000"), to: addr("192.168.1.3:5000"))
        net.run(for: .seconds(1))
        #expect(pa2.received.map(\.time) == [ms(20)])  // host-to-host on the LAN, no NAT
        #expect(pa2.received.first?.from == addr("192.168.1.2:5000"))
        #expect(pb.received.isEmpty)
        #expect(nat1.translatedCount == 0)
    }

    @Test func nothingListeningOnThePort() {
        let lab = Lab(.fullCone)
        lab.client.send([1], from: lab.clientAddress, to: addr("198.51.100.2:9999"))
        lab.net.run(for: .seconds(1))
        #expect(lab.net.counters.droppedNoListener == 1)
        #expect(lab.mappedAddress(via: lab.stun2) != nil)
    }

    @Test func blockingRuleDropsAtTheSender() {
        let lab = Lab(.fullCone)
        lab.net.blocked = { _, to, _ in to.port == 3479 }
        lab.client.send([1], from: lab.clientAddress, to: lab.stun1b.address)
        lab.client.send([2], from: lab.clientAddress, to: lab.neighbourAddress)
        lab.net.run(for: .seconds(1))
        #expect(lab.net.counters == NetworkCounters(sent: 2, delivered: 1, droppedBlocked: 1))
        #expect(lab.neighbour.received.map(\.bytes) == [[2]])
    }

    @Test(arguments: [true, false])
    func hairpinning(enabled: Bool) throws {
        let net = Network()
        let nat = net.addNAT(name: "nat", publicAddress: ip("203.0.113.1"), type: .fullCone)
        nat.hairpinning = enabled
        let a = net.addHost(name: "a", addresses: [ip("192.168.1.2")], behind: nat)
        let b = net.addHost(name: "b", addresses: [ip("192.168.1.3")], behind: nat)
        let s = net.addHost(name: "stun", addresses: [ip("198.51.100.1")])
        let pa = ProbeEndpoint(), pb = ProbeEndpoint(), server = StunServerEndpoint(address: addr("198.51.100.1:3478"))
        net.attach(pa, to: a)
        net.attach(pb, to: b)
        net.attach(server, to: s, addresses: [server.address])
        pa.send(stunBindingRequest(TransactionID(high: 1, low: 1)), from: addr("192.168.1.2:5000"), to: server.address)
        pb.send(stunBindingRequest(TransactionID(high: 1, low: 2)), from: addr("192.168.1.3:5000"), to: server.address)
        net.run(for: .seconds(1))
        let aMapped = try #require(pa.mappedAddresses.first), bMapped = try #require(pb.mappedAddresses.first)
        pa.send([7], from: addr("192.168.1.2:5000"), to: bMapped)
        net.run(for: .seconds(1))
        if enabled {
            // The receiver sees the sender's external mapping as the source.
            #expect(pb.received.last == ReceivedDatagram(time: ms(1020), from: aMapped, to: addr("192.168.1.3:5000"),
                                                         bytes: [7]))
        } else {
            #expect(pb.received.count == 1)
            #expect(net.trace.contains("does not hairpin"))
        }
    }

    @Test func nestedNATsTranslateTwice() throws {
        let net = Network()
        let cgn = net.addNAT(name: "cgn", publicAddress: ip("203.0.113.100"), type: .portRestrictedCone)
        let home = net.addNAT(name: "home", publicAddress: ip("100.64.0.2"), type: .fullCone, behind: cgn)
        let a = net.addHost(name: "a", addresses: [ip("192.168.1.2")], behind: home)
        let s = net.addHost(name: "stun", addresses: [ip("198.51.100.1")])
        let pa = ProbeEndpoint(), server = StunServerEndpoint(address: addr("198.51.100.1:3478"))
        net.attach(pa, to: a)
        net.attach(server, to: s, addresses: [server.address])
        pa.send(stunBindingRequest(TransactionID(high: 1, low: 1)), from: addr("192.168.1.2:5000"), to: server.address)
        net.run(for: .seconds(1))
        #expect(pa.mappedAddresses == [addr("203.0.113.100:49152")])
        #expect(home.activeMappings(now: net.now).map(\.externalAddress) == [addr("100.64.0.2:49152")])
        #expect(cgn.activeMappings(now: net.now).map(\.internalAddress) == [addr("100.64.0.2:49152")])
        let request = try #require(net.records.first)
        #expect(request.notes.count == 2 && request.notes[0].hasPrefix("home:") && request.notes[1].hasPrefix("cgn:"))
    }

    // MARK: Sites for the NAT matrix

    @Test(arguments: NATPlacement.matrix)
    func siteSeesItsServerReflexiveAddress(placement: NATPlacement) {
        let net = Network()
        let host = net.addSite(name: "a", placement: placement, publicAddress: ip("203.0.113.1"),
                               privateAddress: ip("10.0.1.2"))
        let s = net.addHost(name: "stun", addresses: [ip("198.51.100.1")])
        let probe = ProbeEndpoint(), server = StunServerEndpoint(address: addr("198.51.100.1:3478"))
        net.attach(probe, to: host)
        net.attach(server, to: s, addresses: [server.address])
        probe.send(stunBindingRequest(TransactionID(high: 1, low: 1)), from: host.transportAddress(port: 5000),
                   to: server.address)
        net.run(for: .seconds(1))
        let expected = placement == .open ? addr("203.0.113.1:5000") : addr("203.0.113.1:49152")
        #expect(probe.mappedAddresses == [expected])
        #expect(host.nat?.type == placement.natType)
    }

    @Test func matrixExpectations() {
        let cells = NATPlacement.matrix.flatMap { a in NATPlacement.matrix.map { b in (a, b) } }
        #expect(cells.count == 25)
        #expect(cells.filter { !NATPlacement.directConnectivityExpected($0.0, $0.1) }.count == 3)
    }

    // MARK: Driving

    @Test func runUntilStopsAtTheInstantTheConditionHolds() {
        let lab = Lab(.fullCone)
        lab.client.send([1], from: lab.clientAddress, to: lab.strangerAddress, at: ms(500))
        let stranger = lab.stranger
        #expect(!lab.net.runUntil(timeout: .milliseconds(200)) { !stranger.received.isEmpty })
        #expect(lab.net.now == ms(200))
        #expect(lab.net.runUntil(timeout: .seconds(10)) { !stranger.received.isEmpty })
        #expect(lab.net.now == ms(520))
        #expect(lab.net.run(until: ms(600), while: { stranger.received.count < 2 }) == false)
        #expect(lab.net.now == ms(600))
        lab.net.run(until: ms(600))  // a no-op at the current instant
        #expect(lab.net.now == ms(600))
    }

    @Test func timersFireAtTheirDeadline() {
        let lab = Lab(.fullCone)
        lab.client.send([1], from: lab.clientAddress, to: lab.strangerAddress, at: ms(1234))
        lab.net.run(for: .seconds(5))
        #expect(lab.net.records.map(\.sentAt) == [ms(1234)])
        #expect(lab.stranger.received.map(\.time) == [ms(1254)])
    }

    @Test func endpointWhoseDeadlineNeverAdvancesFailsLoudly() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let net = Network()
            let host = net.addHost(name: "h", addresses: [ip("198.51.100.5")])
            net.attach(StuckEndpoint(), to: host, name: "stuck")
            net.run(for: .seconds(1))
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("endpoint stuck reports nextDeadline 0.000ms <= now 0.000ms right after handleTimeout"))
    }

    @Test func zeroDelayPingPongFailsLoudly() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let net = Network()
            net.defaultHostLink = .instant
            let a = net.addHost(name: "a", addresses: [ip("198.51.100.5")])
            let b = net.addHost(name: "b", addresses: [ip("198.51.100.6")])
            // a's endpoint echoes too, so the datagram bounces back and forth forever.
            net.attach(EchoEndpoint(kick: (addr("198.51.100.5:7"), addr("198.51.100.6:7"))), to: a)
            net.attach(EchoEndpoint(), to: b)
            net.run(for: .seconds(1))
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("steps at 0.000ms"))
    }

    // MARK: Determinism and trace

    /// Two NATed clients behind lossy, jittery links query a STUN server and ping each other.
    private func busyScenario(seed: UInt64) -> String {
        let net = Network(seed: seed)
        let nat1 = net.addNAT(name: "nat1", publicAddress: ip("203.0.113.1"), type: .symmetric)
        let nat2 = net.addNAT(name: "nat2", publicAddress: ip("203.0.113.2"), type: .restrictedCone)
        let a = net.addHost(name: "a", addresses: [ip("192.168.1.2")], behind: nat1)
        let b = net.addHost(name: "b", addresses: [ip("192.168.1.2")], behind: nat2)
        a.link = LinkConditions(latency: .milliseconds(15), jitter: .milliseconds(10), loss: 0.1, reorder: 0.1)
        b.link = LinkConditions(latency: .milliseconds(40), jitter: .milliseconds(3), loss: 0.2)
        let s = net.addHost(name: "stun", addresses: [ip("198.51.100.1")])
        let pa = ProbeEndpoint(), pb = ProbeEndpoint(), server = StunServerEndpoint(address: addr("198.51.100.1:3478"))
        net.attach(pa, to: a)
        net.attach(pb, to: b)
        net.attach(server, to: s, addresses: [server.address])
        let local = addr("192.168.1.2:5000")
        for i in 0..<20 {
            pa.send(stunBindingRequest(TransactionID(high: 1, low: UInt64(i))), from: local, to: server.address, at: ms(Int64(i) * 50))
            pb.send(stunBindingRequest(TransactionID(high: 2, low: UInt64(i))), from: local, to: server.address, at: ms(Int64(i) * 50))
            pa.send([UInt8(i)], from: local, to: addr("203.0.113.2:49152"), at: ms(1000 + Int64(i) * 20))
            pb.send([UInt8(i)], from: local, to: addr("203.0.113.1:49152"), at: ms(1000 + Int64(i) * 20))
        }
        net.run(for: .seconds(3))
        return net.trace + "\n" + net.counters.description
    }

    @Test func identicalRunsGiveIdenticalTraces() {
        let first = busyScenario(seed: 99)
        #expect(first == busyScenario(seed: 99))
        #expect(first != busyScenario(seed: 100))
        for fragment in ["STUN binding request", "STUN binding success", "new mapping", "DROPPED lost",
                         "DROPPED NAT-filtered", "delivered to"] {
            #expect(first.contains(fragment), "trace lacks \(fragment)")
        }
    }

    @Test func traceLineFormat() throws {
        let lab = Lab(.fullCone)
        _ = lab.mappedAddress(via: lab.stun1)
        let lines = lab.net.trace.split(separator: "\n").map(String.init)
        #expect(lines == [
            "20.000ms #0 client 192.168.1.2:5000 -> 198.51.100.1:3478 STUN binding request (28 B) | nat: new mapping "
                + "192.168.1.2:5000 => 203.0.113.1:49152 | delivered to stun1 as 203.0.113.1:49152 -> 198.51.100.1:3478 "
                + "(sent 0.000ms)",
            "40.000ms #1 stun1 198.51.100.1:3478 -> 203.0.113.1:49152 STUN binding success (52 B) | nat: "
                + "203.0.113.1:49152 => 192.168.1.2:5000 | delivered to client as 198.51.100.1:3478 -> 192.168.1.2:5000 "
                + "(sent 20.000ms)",
        ])
    }
}

/// Asks for a timeout at zero forever.
private final class StuckEndpoint: SimulatedEndpoint {
    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {}
    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { nil }
    func handleTimeout(now: Instant) {}
    var nextDeadline: Instant? { .zero }
}

extension DatagramRecord.Outcome {
    func isDrop(_ kind: DropKind) -> Bool {
        if case .dropped(kind, _) = self { return true } else { return false }
    }
}
