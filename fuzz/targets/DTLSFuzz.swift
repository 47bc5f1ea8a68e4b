// libFuzzer target over a DTLS-SRTP endpoint's input path (RFC 6347, RFC 5764): the endpoint
// under test and a genuine peer endpoint handshake in memory while the fuzzer drops, replays,
// corrupts and injects datagrams and moves the clock. Built and run by `fuzz/run dtls`; see
// fuzz/README.md.
//
// Input: byte 0 configures (bit 0: the endpoint under test is the client, else the server;
// bit 1: MTU 300 instead of 1200, so flights fragment; bit 2: it expects a fingerprint
// that is not the peer's; bit 3: the peer is not started, so a client peer stays silent),
// then up to 64
// operations, each an opcode byte and its operands:
//   0  a raw datagram (16-bit length and bytes) to the endpoint;
//   1  the peer's next datagram to the endpoint;   2  the endpoint's next datagram to the peer;
//   3  the peer's next datagram, with up to 4 bytes overwritten at chosen offsets;
//   4  the peer's next datagram dropped;           5  the peer's next datagram truncated;
//   6  an earlier datagram of the peer again (replay, by index);
//   7  time passes (up to 65 s) and both handle their timeouts;
//   8  time jumps to the endpoint's next deadline and both handle their timeouts;
//   9  the endpoint closes;   10  everything pending is delivered both ways, in order;
//   11 the peer closes.
// After every operation the endpoint's transmits are checked and queued for the peer, and
// its events are drained.
//
// Invariants (a violation traps):
//   - every transmit is one or more well-framed DTLS records (first byte 20-63, RFC 7983;
//     DTLS version, lengths that add up) and handshake datagrams fit the MTU;
//   - failed and closed are final: no event after `.failed`, nothing but the peer's close
//     after `.connected`, at most one `.connected`;
//   - the keying material has the profile's length; when both ends connect they hold the
//     same bytes and profile (a Finished exchange that agreed on different keys is a bug);
//   - with a wrong expected fingerprint the endpoint never connects (RFC 5763 §5);
//   - after handleTimeout(now), nextDeadline is nil or > now (FUZZ_DEADLINE_INVARIANT=0 turns
//     this off).
// Nothing is printed.

import Common
import DTLS
#if canImport(Glibc)
import Glibc
#endif

let deadlineInvariant = getenv("FUZZ_DEADLINE_INVARIANT").map { String(cString: $0) != "0" } ?? true

// Key generation costs milliseconds: the identities are made once (deterministically).
nonisolated(unsafe) var identitySource = SeededRandom(seed: 0x5EED)
nonisolated(unsafe) let localIdentity = try! DTLSIdentity.generate(random: &identitySource)
nonisolated(unsafe) let peerIdentity = try! DTLSIdentity.generate(random: &identitySource)
let strangerFingerprint = Fingerprint(bytes: InlineArray<32, UInt8>(repeating: 0x5A))

/// One well-framed DTLS datagram: records of a TLS content type and a DTLS version whose
/// lengths add up to the datagram (RFC 6347 §4.1). An alert may carry the version a
/// malformed ClientHello claimed: mbedTLS answers a version it refuses with a protocol_version
/// alert in that version's record, as a server may (RFC 5246 §E.1).
func isDTLSDatagram(_ d: [UInt8]) -> Bool {
    guard d.count >= 13, (20...63).contains(d[0]) else { return false }
    var offset = 0
    while offset < d.count {
        let isAlert = d[offset] == 21
        guard d.count - offset >= 13, (20...23).contains(d[offset]),
              isAlert || (d[offset + 1] == 0xFE && (d[offset + 2] == 0xFD || d[offset + 2] == 0xFF)) else { return false }
        let length = Int(d[offset + 11]) << 8 | Int(d[offset + 12])
        guard length <= d.count - offset - 13 else { return false }
        offset += 13 + length
    }
    return true
}

final class Scenario {
    let endpoint: DTLSEndpoint
    let peer: DTLSEndpoint
    let mtu: Int
    let wrongFingerprint: Bool
    var now = Instant(nanoseconds: 1_000_000_000)
    var toEndpoint: [[UInt8]] = []
    var toPeer: [[UInt8]] = []
    var peerHistory: [[UInt8]] = []
    var keys: DTLSKeyingMaterial? = nil
    var peerKeys: DTLSKeyingMaterial? = nil
    var ended = false

    init(_ config: UInt8) {
        var random = SeededRandom(seed: UInt64(config))
        mtu = config & 2 != 0 ? 300 : 1200
        wrongFingerprint = config & 4 != 0
        let role: DTLSRole = config & 1 != 0 ? .client : .server
        endpoint = try! DTLSEndpoint(role: role, identity: localIdentity,
                                     remoteFingerprint: wrongFingerprint ? strangerFingerprint : peerIdentity.fingerprint,
                                     random: &random, mtu: mtu)
        peer = try! DTLSEndpoint(role: role == .client ? .server : .client, identity: peerIdentity,
                                 remoteFingerprint: localIdentity.fingerprint, random: &random, mtu: mtu)
        endpoint.start(now: now)
        if config & 8 == 0 { peer.start(now: now) }
    }

    func run(_ r: inout FuzzReader) {
        drain()
        var operations = 0
        while !r.isEmpty && operations < 64 {
            operations += 1
            switch r.u8() % 12 {
            case 0:
                let bytes = r.field()
                endpoint.handle(datagram: bytes, now: now)
            case 1:
                if let d = nextFromPeer() { deliver(d) }
            case 2:
                if !toPeer.isEmpty { deliverToPeer(toPeer.removeFirst()) }
            case 3:
                if var d = nextFromPeer() {
                    let n = Int(r.u8() % 5)
                    for _ in 0..<n where !d.isEmpty {
                        let at = Int(r.u16()) % d.count
                        d[at] = r.u8()
                    }
                    deliver(d)
                }
            case 4:
                _ = nextFromPeer()
            case 5:
                if let d = nextFromPeer() { deliver(Array(d.prefix(Int(r.u16()) % (d.count + 1)))) }
            case 6:
                if !peerHistory.isEmpty { deliver(peerHistory[Int(r.u8()) % peerHistory.count]) }
            case 7:
                now = now + .milliseconds(Int64(r.u16()))
                timeouts()
            case 8:
                if let d = endpoint.nextDeadline, d > now { now = d }
                timeouts()
            case 9:
                endpoint.close(now: now)
            case 10:
                var rounds = 0
                while rounds < 16 && (!toEndpoint.isEmpty || !toPeer.isEmpty) {
                    rounds += 1
                    while let d = nextFromPeer() { deliver(d) }
                    while !toPeer.isEmpty { deliverToPeer(toPeer.removeFirst()) }
                }
            default:
                peer.close(now: now)
            }
            drain()
        }
        if let a = keys, let b = peerKeys {
            require(a.bytes == b.bytes && a.profile == b.profile, "both ends connected with the same keys")
            require(a.localIsClient != b.localIsClient, "one client, one server")
        }
        sink(endpoint.droppedDatagrams)
    }

    func nextFromPeer() -> [UInt8]? {
        collectPeer()
        if toEndpoint.isEmpty { return nil }
        return toEndpoint.removeFirst()
    }

    func deliver(_ d: [UInt8]) {
        d.withUnsafeBytes { endpoint.handle(datagram: $0, now: now) }
    }

    func deliverToPeer(_ d: [UInt8]) {
        d.withUnsafeBytes { peer.handle(datagram: $0, now: now) }
        collectPeer()
    }

    func collectPeer() {
        while let d = peer.pollTransmit() {
            if toEndpoint.count < 64 { toEndpoint.append(d) }
            if peerHistory.count < 64 { peerHistory.append(d) }
        }
        while let e = peer.pollEvent() {
            if case .connected(let k) = e { peerKeys = k }
        }
    }

    func timeouts() {
        endpoint.handleTimeout(now: now)
        if deadlineInvariant, let d = endpoint.nextDeadline {
            require(d > now, "deadline after handleTimeout is in the future")
        }
        peer.handleTimeout(now: now)
    }

    func drain() {
        while let d = endpoint.pollTransmit() {
            require(isDTLSDatagram(d), "every transmit is well-framed DTLS")
            require(d.count <= max(mtu, 64), "datagrams fit the MTU")
            if toPeer.count < 64 { toPeer.append(d) }
        }
        while let e = endpoint.pollEvent() {
            require(!ended, "no event after failed or closed")
            switch e {
            case .connected(let k):
                require(keys == nil, "connected once")
                require(!wrongFingerprint, "never connected to a peer with the wrong fingerprint")
                require(k.bytes.count == k.profile.keyingMaterialLength, "keying material length")
                keys = k
            case .failed:
                ended = true
            case .closed:
                require(keys != nil, "closed by the peer only after connecting")
                ended = true
            }
        }
        switch endpoint.state {
        case .connected: require(keys != nil && !ended, "connected only after the event, never after the end")
        case .new, .handshaking: require(keys == nil && !ended, "no way back to the handshake")
        case .failed, .closed: break
        }
        collectPeer()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let s = Scenario(r.u8())
    s.run(&r)
    return 0
}
