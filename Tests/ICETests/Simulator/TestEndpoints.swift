import Common
import NetworkSimulator

/// A datagram an endpoint received, with the virtual time it arrived.
struct ReceivedDatagram: Equatable {
    var time: Instant
    var from: TransportAddress
    var to: TransportAddress
    var bytes: [UInt8]
}

/// Sends every datagram back to where it came from, from the address it arrived on.
final class EchoEndpoint: SimulatedEndpoint {
    private(set) var received: [ReceivedDatagram] = []
    private var outbox = Outbox()

    /// With `kick`, it first sends one datagram `[0]` itself.
    init(kick: (from: TransportAddress, to: TransportAddress)? = nil) {
        if let kick { outbox.append(from: kick.from, to: kick.to, bytes: [0]) }
    }

    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        received.append(ReceivedDatagram(time: now, from: from, to: to, bytes: bytes))
        outbox.append(from: to, to: from, bytes: bytes)
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { outbox.pop() }
    func handleTimeout(now: Instant) {}
    var nextDeadline: Instant? { nil }
}

/// A scripted endpoint: sends what it is told, now or at a given virtual time (through its
/// timer, like a real sans-IO endpoint), and records everything it receives.
final class ProbeEndpoint: SimulatedEndpoint {
    private(set) var received: [ReceivedDatagram] = []
    private var outbox = Outbox()
    /// Scheduled sends, kept sorted by time (stable for equal times).
    private var scheduled: [(time: Instant, from: TransportAddress, to: TransportAddress, bytes: [UInt8])] = []

    /// Queues a datagram: sent at the next step of the network, or at `time` if given.
    func send(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, at time: Instant? = nil) {
        guard let time else {
            outbox.append(from: from, to: to, bytes: bytes)
            return
        }
        let index = scheduled.firstIndex { $0.time > time } ?? scheduled.endIndex
        scheduled.insert((time, from, to, bytes), at: index)
    }

    /// Received datagrams with the mapped address of each STUN Binding success among them.
    var mappedAddresses: [TransportAddress] { received.compactMap { stunBindingResult($0.bytes)?.mapped } }

    func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        received.append(ReceivedDatagram(time: now, from: from, to: to, bytes: bytes))
    }

    func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { outbox.pop() }

    func handleTimeout(now: Instant) {
        while let first = scheduled.first, first.time <= now {
            scheduled.removeFirst()
            outbox.append(from: first.from, to: first.to, bytes: first.bytes)
        }
    }

    var nextDeadline: Instant? { scheduled.first?.time }
}
