import Common
import STUN

/// A STUN Binding server on one transport address (`BindingResponder`, no RFC 5780 alternate):
/// attach it with `network.attach(server, to: host, addresses: [server.address])`.
public final class StunServerEndpoint: SimulatedEndpoint {
    let responder: BindingResponder
    public var address: TransportAddress { responder.primary }
    /// Responses sent, and every request's source as the server saw it (the mapped address).
    private(set) var responsesSent = 0
    public private(set) var requestSources: [TransportAddress] = []
    private var outbox = Outbox()

    public init(address: TransportAddress, software: StaticString = "sim-stun") {
        responder = BindingResponder(primary: address, software: software)
    }

    public func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        guard to == responder.primary else { return }
        var out = [UInt8](repeating: 0, count: 1500)
        let responder = self.responder
        let response = bytes.withUnsafeBytes { raw -> BindingResponder.Response? in
            guard let message = try? Message(parsing: raw) else { return nil }
            if message.messageClass == .request { requestSources.append(from) }
            return out.withUnsafeMutableBytes { responder.respond(to: message, from: from, on: to, into: $0) }
        }
        guard let response else { return }
        responsesSent += 1
        outbox.append(from: response.from, to: response.to, bytes: Array(out[0..<response.count]))
    }

    public func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? { outbox.pop() }
    public func handleTimeout(now: Instant) {}
    public var nextDeadline: Instant? { nil }
}

/// A FIFO of datagrams to send.
public struct Outbox {
    private var items: [(from: TransportAddress, to: TransportAddress, bytes: [UInt8])] = []
    private var head = 0

    public init() {}

    var isEmpty: Bool { head == items.count }

    public mutating func append(from: TransportAddress, to: TransportAddress, bytes: [UInt8]) {
        items.append((from, to, bytes))
    }

    public mutating func pop() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return item
    }
}

/// "STUN binding request (20 B)" for STUN, "N B" for anything else (the trace's default).
func describeDatagram(_ bytes: [UInt8]) -> String {
    if bytes.count >= Message.headerSize && bytes[0] & 0xC0 == 0
        && bytes[4] == 0x21 && bytes[5] == 0x12 && bytes[6] == 0xA4 && bytes[7] == 0x42
    {
        let type = MessageType(rawValue: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
        let method = type.method.name.map { "\($0)" } ?? "method 0x\(String(type.method.rawValue, radix: 16))"
        return "STUN \(method) \(type.messageClass.name) (\(bytes.count) B)"
    }
    return "\(bytes.count) B"
}
