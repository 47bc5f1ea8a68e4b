// libFuzzer target over RFC 5780 NAT behaviour discovery (module NATBehavior, `ice-agent
// nat-type`): a `NATBehaviorDiscovery` fed raw datagrams and real-shaped Binding responses to
// its requests, from the server, its alternate or elsewhere, on either socket, with time
// passing. Built and run by `fuzz/run nat-behavior`; see fuzz/README.md.
//
// Input: a configuration byte (bit 0: hairpinning test, bit 1: lifetime probe), then
// operations (opcode byte, then its fields):
//   0 handle(raw datagram: socket bit, source choice, bytes)
//   1 answer the last request: class (success or error), XOR-MAPPED-ADDRESS, OTHER-ADDRESS,
//     RESPONSE-ORIGIN each present or not (fuzzer addresses), FINGERPRINT or not, the right
//     transaction id or another, from the address asked or another, on the socket or the other
//   2 advance the clock (u16 ms) and handleTimeout
// Invariants (a violation traps):
//   - the outcome leaves `.running` once and never changes after; then `nextDeadline` and
//     `pollTransmit` are nil;
//   - it is decided once the clock reaches the configured time limit;
//   - after `handleTimeout(now)` the deadline is nil or later than now;
//   - every transmit fits the buffer, is a Binding request, and goes to the server, to an
//     address a response named (mapped, OTHER-ADDRESS) or to OTHER-ADDRESS's IP or port
//     combined with the server's (RFC 5780 §4.3).
// Nothing is printed.

import Common
import NATBehavior
import STUN

let server = TransportAddress(.v4(0xC633_640A), 3478)  // 198.51.100.10:3478
let alternate = TransportAddress(.v4(0xC633_640B), 3479)
let locals = [TransportAddress(.v4(0x0A00_0002), 40000), TransportAddress(.v4(0x0A00_0002), 40001)]

func address(_ r: inout FuzzReader) -> TransportAddress {
    switch r.u8() % 5 {
    case 0: return server
    case 1: return alternate
    case 2: return TransportAddress(server.ip, alternate.port)
    case 3: return TransportAddress(alternate.ip, server.port)
    default: return TransportAddress(.v4(r.u32()), r.u16())
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let flags = r.u8()
    var config = DiscoveryConfiguration(server: server, localAddresses: locals)
    config.testHairpinning = flags & 1 != 0
    if flags & 2 != 0 { config.lifetime = LifetimeProbe(first: .seconds(1), longest: .seconds(8)) }
    var now = Instant.zero + .seconds(1)
    let start = now
    var d = NATBehaviorDiscovery(configuration: config, random: SeededRandom(seed: 7), now: now)
    var out = [UInt8](repeating: 0, count: 1500)
    var message = [UInt8](repeating: 0, count: 512)
    var named: [TransportAddress] = [server]
    var last: (socket: LocalSocket, destination: TransportAddress, id: TransactionID)? = nil
    var decided: DiscoveryOutcome? = nil

    func drain() {
        while let t = out.withUnsafeMutableBytes({ d.pollTransmit(into: $0) }) {
            require(decided == nil, "a transmit after the outcome")
            require(t.count >= 20 && t.count <= out.count, "a transmit outside the buffer")
            require(out[0] == 0x00 && out[1] == 0x01, "a transmit that is not a Binding request")
            require(named.contains(t.destination), "a transmit to an address no one named")
            last = (t.socket, t.destination, out.withUnsafeBytes { TransactionID(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<20])) })
        }
    }
    func settle() {
        if decided == nil, d.outcome != .running { decided = d.outcome }
        if let o = decided {
            require(d.outcome == o, "the outcome changed after it was decided")
            require(d.nextDeadline == nil, "a deadline after the outcome")
        }
    }

    drain()
    var steps = 0
    while !r.isEmpty && steps < 200 {
        steps += 1
        switch r.u8() % 3 {
        case 0:
            let socket: LocalSocket = r.bool() ? .socket1 : .socket0
            let source = address(&r)
            let bytes = r.field()
            d.handle(datagram: bytes, from: source, on: socket, now: now)
        case 1:
            let shape = r.u8()
            let mapped = TransportAddress(.v4(0xCB00_7100 | UInt32(r.u8())), r.u16())
            let other = address(&r)
            let origin = address(&r)
            let fallback = (socket: LocalSocket.socket0, destination: server, id: TransactionID(high: 1, low: 2))
            let asked = last ?? fallback
            let id = shape & 0x20 != 0 ? TransactionID(high: r.u32(), low: r.u64()) : asked.id
            let n = message.withUnsafeMutableBytes { buf -> Int in
                do throws(BuildError) {
                    var b = try MessageBuilder(into: buf, type: shape & 1 != 0 ? .bindingError : .bindingSuccess, transactionID: id)
                    if shape & 1 != 0 { try b.appendErrorCode(shape & 0x40 != 0 ? 420 : 400) }
                    if shape & 2 != 0 { try b.append(.xorMappedAddress, xorAddress: mapped) }
                    if shape & 4 != 0 { try b.append(.otherAddress, address: other) }
                    if shape & 8 != 0 { try b.append(.responseOrigin, address: origin) }
                    if shape & 0x10 == 0 { try b.appendFingerprint() }
                    return b.count
                } catch {
                    return 0
                }
            }
            // RFC 5780 §4.3 tests the alternate IP with the primary port, and the alternate
            // address: both come from OTHER-ADDRESS.
            if shape & 4 != 0 {
                for a in [other, TransportAddress(other.ip, server.port), TransportAddress(server.ip, other.port)]
                where !named.contains(a) && named.count < 32 { named.append(a) }
            }
            // Mapped addresses are where hairpinning tests send.
            if shape & 2 != 0 && !named.contains(mapped) && named.count < 32 { named.append(mapped) }
            let source = shape & 0x80 != 0 ? address(&r) : asked.destination
            let socket = r.bool() ? (asked.socket == .socket0 ? LocalSocket.socket1 : .socket0) : asked.socket
            message.withUnsafeBytes { d.handle(datagram: UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: source, on: socket, now: now) }
        default:
            now = now + .milliseconds(Int64(r.u16()))
            d.handleTimeout(now: now)
            if let next = d.nextDeadline { require(next > now, "the deadline is still due after handleTimeout") }
            if now >= start + config.timeLimit { require(d.outcome != .running, "running past the time limit") }
        }
        drain()
        settle()
    }
    // Run out the clock: the outcome comes by the time limit.
    var rounds = 0
    while let next = d.nextDeadline, rounds < 10_000 {
        rounds += 1
        now = max(now, next)
        d.handleTimeout(now: now)
        if now >= start + config.timeLimit { require(d.outcome != .running, "running past the time limit") }
        drain()
        settle()
    }
    require(d.outcome != .running, "still running with no deadline")
    sink(d.droppedDatagrams)
    return 0
}
