// libFuzzer target over the TURN client's incoming path (RFC 8656): a client that has sent
// its first Allocate gets whatever a hostile or broken server sends, interleaved with its own
// API calls and timeouts. Built and run by `fuzz/run turn-client`; see fuzz/README.md.
//
// Input: byte 0 configures the client (bit 0: TCP instead of UDP, bit 1: IPv6 relay, bit 2:
// no FINGERPRINT, bit 3: no keepalive), then up to 64 operations, each an opcode byte and
// its operands:
//   0  a raw datagram from the server (or, bit 0 of the next byte, from elsewhere);
//   1  a response to one of the requests the client sent (chosen by index): success or
//      error, the fuzzer's attributes as raw TLVs, then MESSAGE-INTEGRITY(-SHA256) with the
//      long-term key for the request's REALM and algorithm, and FINGERPRINT, each optional;
//   2  a well-formed response to a sent request built from typed fields: ERROR-CODE, REALM,
//      NONCE, XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME, PASSWORD-ALGORITHMS,
//      ALTERNATE-SERVER, ALTERNATE-DOMAIN, each present or not, signed or not;
//   3  a Data indication from a peer; 4  ChannelData on a channel the client asked for;
//   5  time passes (up to 65 s) and handleTimeout; 6  time jumps to nextDeadline and
//      handleTimeout; 7  createPermission; 8  bindChannel; 9  send; 10  close;
//      11  connectionLost.
// After every operation the transmits and events are drained; the requests among the
// transmits are kept (up to 16) for operations 1 and 2.
//
// Invariants (a violation traps):
//   - every transmit fits its slot and is STUN that parses (requests with a FINGERPRINT that
//     checks when configured, nothing with a wrong one) or ChannelData on a valid channel;
//   - the client's state never goes back from failed or closed to anything but itself;
//   - `data` handed out lies inside the packet it came from, came from the server while
//     allocated, and from a peer the client asked a permission (Data indication) or a channel
//     (ChannelData) for;
//   - after handleTimeout(now), nextDeadline is nil or > now (FUZZ_DEADLINE_INVARIANT=0 turns
//     this off).
// Nothing is printed.

import Common
import Crypto
import STUN
import TURN
#if canImport(Glibc)
import Glibc
#endif

typealias Client = TURNClient<SeededRandom>

let serverAddress = TransportAddress(.v4(0xC000_0201), 3478)  // 192.0.2.1:3478
let alternateAddress = TransportAddress(.v4(0xC000_0202), 3478)
let elsewhere = TransportAddress(.v4(0xC000_0203), 3478)
let peers = [
    TransportAddress(.v4(0xCB00_7164), 5000),  // 203.0.113.100
    TransportAddress(.v4(0xCB00_7165), 6000),
    TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0064), 5000),
    TransportAddress(.v4(0xCB00_7164), 5001),
]
let username = "alice"
let password = "secret"
let deadlineInvariant = getenv("FUZZ_DEADLINE_INVARIANT").map { String(cString: $0) != "0" } ?? true

nonisolated(unsafe) let packetBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)

/// A request the client sent, as the harness needs it to answer.
struct SentRequest {
    var method: Method
    var id: TransactionID
    var realm: [UInt8]?
    var sha256: Bool
}

final class Scenario {
    let client: Client
    let fingerprint: Bool
    var now = Instant(nanoseconds: 1_000_000_000)
    var requests: [SentRequest] = []
    var lastState: TURNState
    /// Peers the harness asked a permission or a channel for (a superset of what is installed).
    var permissionsAsked: [IPAddress] = []
    var channelsAsked: [TransportAddress] = []

    init(_ config: UInt8) {
        var c = TURNConfiguration()
        c.transport = config & 1 == 0 ? .udp : .tcp
        c.addressFamily = config & 2 == 0 ? .ipv4 : .ipv6
        c.fingerprint = config & 4 == 0
        if config & 8 != 0 { c.keepaliveInterval = nil }
        fingerprint = c.fingerprint
        client = Client(server: serverAddress, username: username, password: password, configuration: c,
                        random: SeededRandom(seed: UInt64(config)))
        lastState = client.state
    }

    func drain() {
        while let t = client.pollTransmit() {
            let b = t.bytes
            require(b.count <= TURNCapacities().transmitSlotSize, "a transmit larger than its slot")
            guard let first = b.first else { fail("an empty transmit") }
            if first >= 0x40 && first <= 0x4F {
                do throws(ChannelDataError) {
                    sink(try ChannelData(parsing: b).channel)
                } catch {
                    fail("a ChannelData transmit does not parse")
                }
                continue
            }
            let m: Message
            do throws(ParseError) {
                m = try Message(parsing: b)
            } catch {
                fail("a STUN transmit does not parse")
            }
            // Requests carry FINGERPRINT when configured; Send indications need none (RFC 8656 §11.1).
            if fingerprint && m.messageClass == .request { require(m.checkFingerprint() == .ok, "a request without a valid FINGERPRINT") }
            require(m.checkFingerprint() != .bad, "a transmit with a wrong FINGERPRINT")
            if m.messageClass == .request {
                let realm = m.value(.realm).map { Array($0) }
                let sha = m.value(.passwordAlgorithm).map { $0.count >= 2 && $0.loadBigEndianUInt16(at: 0) == 2 } ?? false
                if requests.count == 16 { requests.removeFirst() }
                requests.append(SentRequest(method: m.method, id: m.transactionID, realm: realm, sha256: sha))
            }
        }
        while let e = client.pollEvent() {
            trace("event \(e)")
            sink(e)
        }
        let s = client.state
        if lastState == .closed || lastState == .failed {
            require(s == lastState, "a closed or failed client came back to life")
        }
        lastState = s
    }

    func receive(_ packet: UnsafeRawBufferPointer, from source: TransportAddress) {
        let input = client.handle(packet: packet, from: source, now: now)
        trace("handle \(packet.count) bytes: \(input), state \(client.state)")
        if case .data(let peer, let bytes) = input {
            if bytes.count > 0 {
                let lo = packet.baseAddress!, hi = lo + packet.count
                require(bytes.baseAddress! >= lo && bytes.baseAddress! + bytes.count <= hi, "relayed data outside the packet")
            }
            require(source == client.server && client.state == .allocated, "relayed data outside an allocation")
            // RFC 8656 §10.1, §12.6: data comes only from a permitted peer, or on a channel we asked for.
            // Requested is enough: the server installs it before its success response, which
            // the data may overtake.
            if let first = packet.first, first >= 0x40 && first <= 0x4F {
                require(channelsAsked.contains(peer), "ChannelData from a peer without a channel")
            } else {
                require(permissionsAsked.contains(peer.ip), "a Data indication from a peer without permission")
            }
        }
        sink(input)
    }

    func timeout() {
        client.handleTimeout(now: now)
        if deadlineInvariant, let d = client.nextDeadline {
            require(d > now, "nextDeadline is not after the handleTimeout that just ran")
        }
    }

    func pick(_ r: inout FuzzReader) -> SentRequest? {
        guard !requests.isEmpty else { return nil }
        return requests[requests.count - 1 - Int(r.u8()) % requests.count]
    }

    func key(for request: SentRequest, realm override: [UInt8]? = nil) -> IntegrityKey {
        let realm = String(decoding: override ?? request.realm ?? Array("example.org".utf8), as: UTF8.self)
        return IntegrityKey.longTerm(username: username, realm: realm, password: password,
                                     algorithm: request.sha256 ? .sha256 : .md5)
    }

    /// Operation 1: the fuzzer's TLVs in a response to a sent request.
    func rawResponse(_ r: inout FuzzReader) {
        guard let req = pick(&r) else { return }
        let flags = r.u8()
        let tlvs = r.field()
        let type = MessageType(req.method, flags & 1 == 0 ? .successResponse : .errorResponse)
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: type, transactionID: req.id)
            var t = FuzzReader(tlvs)
            while t.remaining >= 4 {
                let at = AttributeType(t.u16())
                let value = t.bytes(Int(t.u16()) % 512)
                try b.append(at, bytes: value)
            }
            if flags & 2 != 0 { try b.appendMessageIntegrity(key(for: req)) }
            if flags & 4 != 0 { try b.appendMessageIntegritySHA256(key(for: req)) }
            if flags & 8 == 0 { try b.appendFingerprint() }
            receive(b.bytes, from: serverAddress)
        } catch {
            sink(error)
        }
    }

    /// Operation 2: a response built from typed fields.
    func typedResponse(_ r: inout FuzzReader) {
        guard let req = pick(&r) else { return }
        let present = r.u16()
        let error = present & 1 != 0
        let type = MessageType(req.method, error ? .errorResponse : .successResponse)
        var realm: [UInt8]? = nil
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: type, transactionID: req.id)
            if error {
                let codes = [300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 500, 508]
                let c = r.u8()
                try b.appendErrorCode(c < 200 ? codes[Int(c) % codes.count] : 300 + Int(r.u16()) % 400)
            }
            if present & 2 != 0 {
                let v = r.bytes(Int(r.u8()) % 64)
                realm = Array(v)
                try b.append(.realm, bytes: v)
            }
            if present & 4 != 0 { try b.append(.nonce, bytes: r.bytes(Int(r.u8()) % 64)) }
            if present & 8 != 0 { try b.append(.xorRelayedAddress, xorAddress: address(&r)) }
            if present & 16 != 0 { try b.append(.xorMappedAddress, xorAddress: address(&r)) }
            if present & 32 != 0 { try b.append(.lifetime, uint32: r.u32()) }
            if present & 64 != 0 {
                var algs: [PasswordAlgorithm] = []
                for _ in 0..<(r.u8() % 3 + 1) { algs.append(r.bool() ? .sha256 : .md5) }
                try b.appendPasswordAlgorithms(algs)
            }
            if present & 128 != 0 {
                try b.append(.alternateServer, address: r.bool() ? alternateAddress : address(&r))
            }
            if present & 256 != 0 { try b.append(.alternateDomain, bytes: r.bytes(Int(r.u8()) % 64)) }
            if present & 512 != 0 { try b.append(.channelNumber, uint32: r.u32()) }
            // Challenges are unsigned; everything else is signed unless the fuzzer says no.
            if present & 1024 == 0 && !(error && realm != nil) {
                if req.sha256 { try b.appendMessageIntegritySHA256(key(for: req)) } else { try b.appendMessageIntegrity(key(for: req)) }
            }
            if present & 2048 == 0 { try b.appendFingerprint() }
            receive(b.bytes, from: serverAddress)
        } catch {
            sink(error)
        }
    }

    func address(_ r: inout FuzzReader) -> TransportAddress {
        switch r.u8() % 4 {
        case 0: return TransportAddress(.v4(0xC633_6401), 49152)
        case 1: return TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0001), 49153)
        case 2: return TransportAddress(.v4(r.u32()), r.u16())
        default: return TransportAddress(.v6(r.u64(), r.u64()), r.u16())
        }
    }

    func dataIndication(_ r: inout FuzzReader) {
        let peer = peers[Int(r.u8()) % peers.count]
        let payload = r.bytes(Int(r.u16()) % 1200)
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: MessageType(.data, .indication),
                                       transactionID: TransactionID(high: r.u32(), low: r.u64()))
            try b.append(.xorPeerAddress, xorAddress: peer)
            try b.append(.data, bytes: payload)
            if r.bool() { try b.appendFingerprint() }
            receive(b.bytes, from: serverAddress)
        } catch {
            sink(error)
        }
    }

    func channelData(_ r: inout FuzzReader) {
        let peer = peers[Int(r.u8()) % peers.count]
        let number = client.channel(for: peer) ?? (0x4000 | r.u16() & 0x0FFF)
        let payload = r.bytes(Int(r.u16()) % 1200)
        do throws(ChannelDataError) {
            let n = try ChannelData.write(channel: number, payload: payload, transport: client.configuration.transport,
                                          into: packetBuffer)
            receive(UnsafeRawBufferPointer(rebasing: packetBuffer[0..<n]), from: serverAddress)
        } catch {
            sink(error)
        }
    }

    func run(_ r: inout FuzzReader) {
        do throws(TURNError) {
            try client.start(now: now)
        } catch {
            fail("start failed on a fresh client")
        }
        drain()
        var ops = 0
        while !r.isEmpty && ops < 64 {
            ops += 1
            let op = r.u8() % 12
            trace("op \(op)")
            switch op {
            case 0:
                let from = r.bool() ? elsewhere : client.server
                receive(r.field(), from: from)
            case 1: rawResponse(&r)
            case 2: typedResponse(&r)
            case 3: dataIndication(&r)
            case 4: channelData(&r)
            case 5:
                now = now + .milliseconds(Int64(r.u16()))
                timeout()
            case 6:
                if let d = client.nextDeadline, d > now { now = d }
                timeout()
            case 7:
                let peer = peers[Int(r.u8()) % peers.count]
                permissionsAsked.append(peer.ip)
                do throws(TURNError) { try client.createPermission(peer: peer, now: now) } catch { sink(error) }
            case 8:
                let peer = peers[Int(r.u8()) % peers.count]
                permissionsAsked.append(peer.ip)
                channelsAsked.append(peer)
                do throws(TURNError) { sink(try client.bindChannel(peer: peer, now: now)) } catch { sink(error) }
            case 9:
                let peer = peers[Int(r.u8()) % peers.count]
                do throws(TURNError) { try client.send(r.bytes(Int(r.u16()) % 1400), to: peer, now: now) } catch { sink(error) }
            case 10: client.close(now: now)
            default: client.connectionLost(now: now)
            }
            drain()
        }
        sink(client.counters)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let s = Scenario(r.u8())
    s.run(&r)
    return 0
}
