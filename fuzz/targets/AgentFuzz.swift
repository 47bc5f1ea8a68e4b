// libFuzzer target over the ICE agent's input path (RFC 8445, RFC 7675): `Agent.handle` fed
// arbitrary datagrams, and datagrams a real peer or STUN server would send, interleaved with
// timeouts and the owner's calls. Built and run by `fuzz/run ice-agent`; see fuzz/README.md.
//
// Input: byte 0 configures the agent (bit 0: controlled, bit 1: ICE-lite, bit 2: no consent
// freshness, bit 3: a STUN server to gather from, bit 4: 2 components, bit 5: remote is
// lite, bits 6-7: how many remote candidates are known at start), then up to 64
// operations, each an opcode byte and its operands:
//   0  a raw datagram from a known or fuzzer-chosen source to one of the local bases;
//   1  a connectivity check from the peer, as a real one: Binding request, the fuzzer's
//      transaction id, USERNAME "ours:theirs", PRIORITY, ICE-CONTROLLING or -CONTROLLED with
//      a fuzzer tie-breaker, USE-CANDIDATE, the fuzzer's extra TLVs, MESSAGE-INTEGRITY with
//      the agent's password (or, by a flag, a wrong one or a wrong USERNAME), FINGERPRINT;
//   2  a response to one of the requests the agent sent (checks, consent, gathering): success
//      with XOR-MAPPED-ADDRESS (the request's source, or fuzzer-chosen), or an error (487,
//      400, 401, 420, 500 or any 300-699), the fuzzer's extra TLVs, signed with the peer's
//      password (or not, or wrongly), FINGERPRINT (or not), from the request's destination
//      or elsewhere;
//   3  a Binding indication (keepalive); 4  time passes (up to 65 s) and handleTimeout;
//   5  time jumps to nextDeadline and handleTimeout; 6  a trickled remote candidate;
//   7  remote end-of-candidates; 8  ICE restart; 9  close (operand 0x5A) or, for an odd
//      operand, a relayed local candidate (a TURN allocation), which becomes a base, or when
//      there is one, its removal (the allocation lost), after which it is a base no more.
// After every operation the transmits and events are drained; the requests among them are
// kept (up to 16) for operation 2.
//
// Invariants (a violation traps):
//   - every transmit is STUN that parses, with a FINGERPRINT that checks, from one of the
//     local bases, and fits the agent's slot;
//   - `handle` says .notSTUN exactly when the first byte is not 0-3;
//   - a check with a wrong USERNAME, a wrong or no MESSAGE-INTEGRITY, and a response to a check
//     or consent request signed wrongly or not at all, are dropped and change neither the
//     state, the role, the remote candidates nor the selected pair;
//   - after handleTimeout(now), nextDeadline is nil or > now (FUZZ_DEADLINE_INVARIANT=0 turns
//     this off);
//   - every candidate pair names a local and a remote candidate that are in the tables (by
//     id and position), after a removal and at the end.
// Nothing is printed.

import Common
import Crypto
import ICE
import STUN
#if canImport(Glibc)
import Glibc
#endif

typealias ICEAgent = Agent<SeededRandom>

let localV4 = TransportAddress(.v4(0xC000_020A), 40000)  // 192.0.2.10:40000
let localV6 = TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0010), 40002)
let localV4c2 = TransportAddress(.v4(0xC000_020A), 40001)
let remoteHosts = [
    TransportAddress(.v4(0xCB00_7164), 5000),  // 203.0.113.100:5000
    TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0064), 5002),
    TransportAddress(.v4(0xCB00_7165), 6000),
    TransportAddress(.v4(0xCB00_7164), 5001),
]
let stunServer = TransportAddress(.v4(0xC633_6401), 3478)  // 198.51.100.1:3478
let relayed = TransportAddress(.v4(0xC633_6401), 49152)  // a TURN allocation on that server
let remoteUfrag = "rUfr"
let remotePassword = "remote-password-0123456789"
let deadlineInvariant = getenv("FUZZ_DEADLINE_INVARIANT").map { String(cString: $0) != "0" } ?? true

nonisolated(unsafe) let packetBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)

struct SentRequest {
    var id: TransactionID
    var source: TransportAddress
    var destination: TransportAddress
    var isCheck: Bool
}

final class Scenario {
    let agent: ICEAgent
    let start = Instant(nanoseconds: 1_000_000_000)
    var now: Instant
    var requests: [SentRequest] = []
    var bases: [TransportAddress] = [localV4, localV6]
    let remoteKey = IntegrityKey.shortTerm(password: remotePassword)
    let wrongKey = IntegrityKey.shortTerm(password: "not-the-password-at-all")

    init(_ config: UInt8) {
        now = start
        var c = AgentConfiguration()
        c.role = config & 1 == 0 ? .controlling : .controlled
        c.lite = config & 2 != 0
        c.consentFreshness = config & 4 == 0
        if config & 8 != 0 { c.stunServers = [stunServer] }
        c.components = config & 16 != 0 ? 2 : 1
        agent = ICEAgent(configuration: c, random: SeededRandom(seed: UInt64(config) &+ 1))
        do throws(ICEError) {
            try agent.addHostCandidate(base: localV4)
            try agent.addHostCandidate(base: localV6)
            if c.components == 2 {
                try agent.addHostCandidate(base: localV4c2, component: 2)
                bases.append(localV4c2)
            }
        } catch {
            fail("host candidates refused on a fresh agent")
        }
        agent.setRemoteCredentials(ufrag: remoteUfrag, password: remotePassword)
        if config & 32 != 0 { agent.remoteIsLite = true }
        for i in 0..<Int(config >> 6) { addRemote(remoteHosts[i], component: 1, priority: 2_130_706_431 - UInt32(i)) }
        agent.startGathering(now: now)
        drain()
    }

    var localKey: IntegrityKey { IntegrityKey.shortTerm(password: agent.localCredentials.passwordText) }

    func addRemote(_ address: TransportAddress, component: UInt8, priority: UInt32, type: CandidateType = .host) {
        let c = Candidate(type: type, component: component, priority: priority,
                          foundation: Foundation(number: Int(priority % 1000)), address: address)
        do throws(ICEError) { try agent.addRemoteCandidate(c, now: now) } catch { sink(error) }
    }

    func drain() {
        while let t = agent.pollTransmit() {
            let b = t.bytes
            require(b.count <= 1280, "a transmit larger than the agent's slot")
            require(bases.contains(t.source), "a transmit from no local base")
            let m: Message
            do throws(ParseError) {
                m = try Message(parsing: b)
            } catch {
                fail("a transmit does not parse")
            }
            require(m.checkFingerprint() == .ok, "a transmit without a valid FINGERPRINT")
            if m.messageClass == .request {
                if requests.count == 16 { requests.removeFirst() }
                requests.append(SentRequest(id: m.transactionID, source: t.source, destination: t.destination,
                                            isCheck: m.contains(.username)))
            }
        }
        while let e = agent.pollEvent() {
            trace("event \(e)")
            sink(e)
        }
        sink(agent.nextDeadline)
    }

    @discardableResult
    func receive(_ packet: UnsafeRawBufferPointer, from source: TransportAddress, to local: TransportAddress) -> PacketDisposition {
        let d = agent.handle(packet: packet, from: source, to: local, now: now)
        trace("handle \(packet.count) bytes from \(source): \(d), state \(agent.state)")
        let stunByte = packet.first.map { $0 < 4 } ?? false
        require((d == .notSTUN) == !stunByte, "notSTUN does not follow the first byte")
        return d
    }

    /// A message that fails authentication is dropped and changes nothing the owner can see
    /// (RFC 8445 §7.3, RFC 8489 §9.1.3: discarded; the agent may answer 400 or 401).
    func unauthenticated(_ packet: UnsafeRawBufferPointer, from source: TransportAddress, to local: TransportAddress) {
        let state = agent.state, role = agent.role, selected = agent.selectedPair()
        let remotes = agent.remoteCandidates.count
        let d = receive(packet, from: source, to: local)
        require(d == .dropped, "an unauthenticated message was not dropped")
        require(agent.state == state && agent.role == role, "an unauthenticated message changed the state or role")
        require(agent.remoteCandidates.count == remotes, "an unauthenticated message added a remote candidate")
        let now = agent.selectedPair()
        require((now == nil) == (selected == nil), "an unauthenticated message changed the selection")
        if let a = selected, let b = now {
            require(a.local.address == b.local.address && a.remote.address == b.remote.address && a.nominated == b.nominated,
                    "an unauthenticated message changed the selection")
        }
    }

    func timeout() {
        agent.handleTimeout(now: now)
        trace("handleTimeout at \(now.nanoseconds) ns: next deadline \(agent.nextDeadline.map { "\($0.nanoseconds) ns" } ?? "none"), state \(agent.state)")
        if deadlineInvariant, let d = agent.nextDeadline {
            require(d > now, "nextDeadline is not after the handleTimeout that just ran")
        }
    }

    func source(_ r: inout FuzzReader) -> TransportAddress {
        let k = r.u8()
        if k < 200 { return remoteHosts[Int(k) % remoteHosts.count] }
        return k & 1 == 0 ? TransportAddress(.v4(r.u32()), r.u16()) : TransportAddress(.v6(r.u64(), r.u64()), r.u16())
    }

    func base(_ r: inout FuzzReader) -> TransportAddress { bases[Int(r.u8()) % bases.count] }

    func extraTLVs(_ r: inout FuzzReader, _ b: inout MessageBuilder) throws(BuildError) {
        var t = FuzzReader(r.bytes(Int(r.u8())))
        while t.remaining >= 4 {
            let at = AttributeType(t.u16())
            try b.append(at, bytes: t.bytes(Int(t.u16()) % 256))
        }
    }

    /// Operation 1: a connectivity check from the peer.
    func check(_ r: inout FuzzReader) {
        let flags = r.u8()
        let from = source(&r)
        let to = base(&r)
        let id = TransactionID(high: r.u32(), low: r.u64())
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: .bindingRequest, transactionID: id)
            let ours = agent.localCredentials.ufragText
            try b.append(.username, text: flags & 1 == 0 ? ours + ":" + remoteUfrag : "x" + ours + ":" + remoteUfrag)
            try b.append(.priority, uint32: r.u32())
            if flags & 2 != 0 { try b.append(.iceControlling, uint64: r.u64()) }
            if flags & 4 != 0 { try b.append(.iceControlled, uint64: r.u64()) }
            if flags & 8 != 0 { try b.appendFlag(.useCandidate) }
            if flags & 16 != 0 { try extraTLVs(&r, &b) }
            if flags & 32 == 0 { try b.appendMessageIntegrity(flags & 64 == 0 ? localKey : wrongKey) }
            try b.appendFingerprint()
            if flags & (1 | 32 | 64) != 0 { unauthenticated(b.bytes, from: from, to: to) } else { receive(b.bytes, from: from, to: to) }
        } catch {
            sink(error)
        }
    }

    /// Operation 2: a response to a request the agent sent.
    func response(_ r: inout FuzzReader) {
        guard !requests.isEmpty else { return }
        let req = requests[requests.count - 1 - Int(r.u8()) % requests.count]
        let flags = r.u8()
        let error = flags & 1 != 0
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: error ? .bindingError : .bindingSuccess, transactionID: req.id)
            if error {
                let codes = [487, 400, 401, 420, 500]
                let c = r.u8()
                try b.appendErrorCode(c < 200 ? codes[Int(c) % codes.count] : 300 + Int(r.u16()) % 400)
            } else {
                let mapped = flags & 2 == 0 ? req.source : source(&r)
                try b.append(.xorMappedAddress, xorAddress: mapped)
            }
            if flags & 4 != 0 { try extraTLVs(&r, &b) }
            if req.isCheck && flags & 8 == 0 { try b.appendMessageIntegrity(flags & 16 == 0 ? remoteKey : wrongKey) }
            if flags & 32 == 0 { try b.appendFingerprint() }
            let from = flags & 64 == 0 ? req.destination : source(&r)
            let to = flags & 128 == 0 ? req.source : base(&r)
            if req.isCheck && flags & (8 | 16) != 0 { unauthenticated(b.bytes, from: from, to: to) } else { receive(b.bytes, from: from, to: to) }
        } catch {
            sink(error)
        }
    }

    func indication(_ r: inout FuzzReader) {
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: .bindingIndication, transactionID: TransactionID(high: r.u32(), low: r.u64()))
            try b.appendFingerprint()
            receive(b.bytes, from: source(&r), to: base(&r))
        } catch {
            sink(error)
        }
    }

    /// Every pair names candidates that are in the tables, by id and by position.
    func requireConsistentTables() {
        let locals = agent.localCandidates, remotes = agent.remoteCandidates
        for p in agent.candidatePairs {
            require(p.local >= 0 && p.local < locals.count && locals[p.local].id == p.localID, "a pair names a missing local candidate")
            require(p.remote >= 0 && p.remote < remotes.count && remotes[p.remote].id == p.remoteID, "a pair names a missing remote candidate")
        }
    }

    func run(_ r: inout FuzzReader) {
        var ops = 0
        while !r.isEmpty && ops < 64 {
            ops += 1
            let op = r.u8() % 10
            trace("op \(op)")
            switch op {
            case 0:
                let from = source(&r), to = base(&r)
                receive(r.bytes(Int(r.u16()) % 1500), from: from, to: to)
            case 1: check(&r)
            case 2: response(&r)
            case 3: indication(&r)
            case 4:
                now = now + .milliseconds(Int64(r.u16()))
                timeout()
            case 5:
                if let d = agent.nextDeadline, d > now { now = d }
                timeout()
            case 6:
                let types: [CandidateType] = [.host, .serverReflexive, .peerReflexive, .relayed]
                let k = r.u8()
                addRemote(source(&r), component: k & 1 == 0 ? 1 : 2, priority: r.u32(), type: types[Int(k >> 1) % 4])
            case 7: agent.setRemoteEndOfCandidates(now: now)
            case 8:
                agent.restart(now: now)
                requests.removeAll()
                if r.bool() { agent.setRemoteCredentials(ufrag: remoteUfrag, password: remotePassword) }
            default:
                let k = r.u8()
                if k == 0x5A {
                    agent.close()
                } else if k & 1 == 1 && !bases.contains(relayed) {
                    do throws(ICEError) {
                        try agent.addRelayedCandidate(address: relayed, server: stunServer, mappedAddress: TransportAddress(.v4(0xCB00_0709), 51000))
                        bases.append(relayed)
                    } catch {
                        sink(error)
                    }
                } else if k & 1 == 1 {
                    // The allocation is lost: nothing may go out from it any more (drain checks
                    // every transmit's source against `bases`).
                    agent.removeLocalCandidate(relayed, now: now)
                    bases.removeAll { $0 == relayed }
                    requireConsistentTables()
                }
            }
            drain()
        }
        requireConsistentTables()
        sink(agent.counters)
        sink(agent.selectedPair())
        sink(agent.acceptsMedia(from: remoteHosts[0], on: localV4))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let s = Scenario(r.u8())
    s.run(&r)
    return 0
}
