import Common
import NATBehavior
import NetworkSimulator
import STUN

/// An RFC 5780 server on the simulator: `BindingResponder` with an alternate, on the four
/// combinations of {primary, alternate} IP and port (RFC 5780 §6).
final class RFC5780ServerEndpoint: SimulatedEndpoint {
    let responder: BindingResponder
    var addresses: [TransportAddress] {
        guard let alternate = responder.alternate else { return [responder.primary] }
        let p = responder.primary
        return [p, TransportAddress(p.ip, alternate.port), TransportAddress(alternate.ip, p.port), alternate]
    }
    private var outbox = Outbox()

    init(primary: TransportAddress, alternate: TransportAddress?) {
        responder = BindingResponder(primary: primary, alternate: alternate, software: "sim-5780")
    }

    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        var out = [UInt8](repeating: 0, count: 1500)
        let responder = self.responder
        let response = bytes.withUnsafeBytes { raw -> BindingResponder.Response? in
            guard let message = try? Message(parsing: raw) else { return nil }
            return out.withUnsafeMutableBytes { responder.respond(to: message, from: from, on: to, into: $0) }
        }
        guard let response else { return }
        outbox.append(from: response.from, to: response.to, bytes: Array(out[0..<response.count]))
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { outbox.pop() }
    func handleTimeout(now: Instant) {}
    var nextDeadline: Instant? { nil }
}

/// The discovery state machine on a simulated host with two sockets.
final class DiscoveryEndpoint: SimulatedEndpoint {
    var discovery: NATBehaviorDiscovery<SeededRandom>
    let sockets: [TransportAddress]
    /// Datagrams to inject ahead of the real ones (hostile traffic), by socket.
    var sent: [(socket: LocalSocket, to: TransportAddress, bytes: [UInt8])] = []

    init(sockets: [TransportAddress], configuration: DiscoveryConfiguration, seed: UInt64 = 7) {
        self.sockets = sockets
        discovery = NATBehaviorDiscovery(configuration: configuration, random: SeededRandom(seed: seed), now: .zero)
    }

    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        guard let index = sockets.firstIndex(of: to), let socket = LocalSocket(rawValue: index) else { return }
        bytes.withUnsafeBytes { discovery.handle(datagram: $0, from: from, on: socket, now: now) }
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        var buffer = [UInt8](repeating: 0, count: 1500)
        guard let t = buffer.withUnsafeMutableBytes({ discovery.pollTransmit(into: $0) }) else { return nil }
        let bytes = Array(buffer[0..<t.count])
        sent.append((t.socket, t.destination, bytes))
        return (sockets[t.socket.rawValue], t.destination, bytes)
    }

    func handleTimeout(now: Instant) { discovery.handleTimeout(now: now) }
    var nextDeadline: Instant? { discovery.nextDeadline }
}

/// A client host (behind a NAT of `type`, or on the internet) and an RFC 5780 server.
struct DiscoveryWorld {
    let network = Network(seed: 3)
    let nat: NAT?
    let client: DiscoveryEndpoint
    let server: RFC5780ServerEndpoint

    static let primary = addr("198.51.100.10:3478")
    static let alternate = addr("198.51.100.11:3479")

    init(type: NATType?, alternate: TransportAddress? = DiscoveryWorld.alternate, hairpinning: Bool = true,
         bindingTimeout: Interval = .seconds(120), configure: (inout DiscoveryConfiguration) -> Void = { _ in }) {
        let host: Host
        let sockets: [TransportAddress]
        if let type {
            let nat = network.addNAT(name: "home", publicAddress: ip("203.0.113.1"), type: type,
                                     bindingTimeout: bindingTimeout)
            nat.hairpinning = hairpinning
            self.nat = nat
            host = network.addHost(name: "doorbell", addresses: [ip("192.168.1.20")], behind: nat)
            sockets = [addr("192.168.1.20:40000"), addr("192.168.1.20:40001")]
        } else {
            nat = nil
            host = network.addHost(name: "doorbell", addresses: [ip("203.0.113.50")])
            sockets = [addr("203.0.113.50:40000"), addr("203.0.113.50:40001")]
        }
        var configuration = DiscoveryConfiguration(server: Self.primary, localAddresses: [sockets[0]])
        configure(&configuration)
        client = DiscoveryEndpoint(sockets: sockets, configuration: configuration)
        server = RFC5780ServerEndpoint(primary: Self.primary, alternate: alternate)
        let serverHost = network.addHost(name: "stun", addresses: [Self.primary.ip, Self.alternate.ip])
        network.attach(client, to: host, addresses: sockets)
        network.attach(server, to: serverHost, addresses: server.addresses)
    }

    /// Runs until the outcome is known or `limit` of virtual time passed.
    func run(limit: Interval = .seconds(60)) -> DiscoveryOutcome {
        let client = self.client
        network.runUntil(timeout: limit) { client.discovery.outcome != .running }
        return client.discovery.outcome
    }
}

extension DiscoveryOutcome {
    var report: NATBehaviorReport? {
        if case .determined(let r) = self { return r }
        return nil
    }
}
