// libFuzzer target over `Connection` (module Connectivity): the ICE agent and its TURN relays
// behind one sans-IO surface, fed what hostile TURN servers and peers send, interleaved with
// the owner's calls and timeouts. The harness is also the owner of the relays' stream
// connections: it answers `.openStream` with `streamOpened` or `streamFailed` and
// `.bindRelaySocket` with `relaySocketBound`. Built and run by `fuzz/run connection`; see
// fuzz/README.md.
//
// Input: byte 0 configures the connection (bit 0: controlled; bits 1-2: the relays, 1 UDP
// only, 2 TCP only, 0 or 3 both; bit 3: relay-only; bit 4: no consent freshness; bit 5: a
// STUN server to gather from; bits 6-7: how many remote candidates are known at start), then
// up to 64 operations, each an opcode byte and its operands:
//   0  a raw datagram from a relay's server, a peer or a fuzzer-chosen source to a base;
//   1  a response to one of the requests a relay's client sent (chosen by index): success or
//      error, the fuzzer's attributes as raw TLVs, then MESSAGE-INTEGRITY(-SHA256) with the
//      long-term key for the request's REALM and algorithm, and FINGERPRINT, each optional;
//   2  a well-formed response to such a request built from typed fields (ERROR-CODE, REALM,
//      NONCE, XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME, PASSWORD-ALGORITHMS,
//      ALTERNATE-SERVER, ALTERNATE-DOMAIN, CHANNEL-NUMBER), signed or not;
//   3  a Data indication from a relay's server, 4  ChannelData from it (on the channel the
//      client bound for the peer, or a fuzzer-chosen number), each carrying a peer message:
//      raw bytes, a connectivity check as a real peer sends it (USERNAME, PRIORITY,
//      ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE, extra TLVs, MESSAGE-INTEGRITY with the
//      agent's password or a wrong one, FINGERPRINT), a response to one of the agent's
//      requests that went through that relay (signed with the peer's password or not), or a
//      Binding indication;
//   5  the same peer messages as datagrams to a host base (responses to requests that left
//      from a socket);
//   6  a raw frame on a TCP relay's stream;  7  addRemoteCandidate;
//   8  setRemoteEndOfCandidates;  9  restart (and, by a flag, the peer's credentials again);
//   10 sendMedia;  11 relaySocketBound (a fresh base for a UDP relay);
//   12 the stream owner: streamOpened for a pending `.openStream`, or streamFailed;
//   13 close (operand 0x5A);  14 time passes (up to 65 s) and handleTimeout;
//   15 time jumps to nextDeadline and handleTimeout.
// After every operation the transmits and events are drained; the relays' requests and the
// agent's requests among the transmits are kept (up to 16 each) for the responses.
//
// Invariants (a violation traps):
//   - every transmit's route is a host base, a base given with relaySocketBound, or the
//     stream of a TCP relay whose connection the owner opened (and not since closed); nothing
//     is sent on a socket route from a relayed address, nor does sendMedia send directly
//     from one;
//   - every transmit fits a slot and is STUN (with no wrong FINGERPRINT) or, to a server,
//     ChannelData that parses; what goes to a peer is STUN with a FINGERPRINT that checks;
//   - every `.media` / `.unknownSource` range lies within the input, on a base or a relayed
//     address;
//   - `.endOfCandidates` comes at most once per generation (restart starts a new one) and no
//     `.localCandidate` follows it in the same generation (`.unsignaledCandidate` does,
//     only after it); `.openStream` and `.closeStream` name TCP relays, `.bindRelaySocket` a
//     UDP one;
//   - after handleTimeout(now), nextDeadline is nil or > now (FUZZ_DEADLINE_INVARIANT=0 turns
//     this off).
// Nothing is printed (FUZZ_TRACE=1 traces).

import Common
import Connectivity
import ICE
import STUN
import TURN
#if canImport(Glibc)
import Glibc
#endif

typealias Conn = Connection<SeededRandom>

let hostV4 = TransportAddress(.v4(0xC000_020A), 40000)  // 192.0.2.10:40000, also the UDP relay's base
let hostV6 = TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0010), 40002)
let reboundBases = [
    TransportAddress(.v4(0xC000_020A), 40100),
    TransportAddress(.v4(0xC000_020A), 40101),
    TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0010), 40103),
]
let udpServer = TransportAddress(.v4(0xC633_6401), 3478)  // 198.51.100.1:3478
let tcpServer = TransportAddress(.v4(0xC633_6402), 3478)
let alternateServer = TransportAddress(.v4(0xC633_6403), 3478)
let stunServer = TransportAddress(.v4(0xC633_6404), 3478)
let relayedAddresses = [
    TransportAddress(.v4(0xC633_6401), 49152),
    TransportAddress(.v4(0xC633_6402), 49153),
    TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0099), 49154),
]
let remoteHosts = [
    TransportAddress(.v4(0xCB00_7164), 5000),  // 203.0.113.100:5000
    TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0064), 5002),
    TransportAddress(.v4(0xCB00_7165), 6000),
    TransportAddress(.v4(0xCB00_7164), 5001),
]
let credentials = [(user: "alice", password: "secret"), (user: "bob", password: "hunter2")]
let remoteUfrag = "rUfr"
let remotePassword = "remote-password-0123456789"
let deadlineInvariant = getenv("FUZZ_DEADLINE_INVARIANT").map { String(cString: $0) != "0" } ?? true

/// The outer datagram or frame (a TURN message), and the peer message carried inside it.
nonisolated(unsafe) let packetBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
nonisolated(unsafe) let innerBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)

/// A request a relay's client sent, as the harness needs it to answer.
struct TURNRequest {
    var relay: Int
    var method: Method
    var id: TransactionID
    var realm: [UInt8]?
    var sha256: Bool
}

/// A request the agent sent: on a socket (relay nil) or through a relay to `destination`.
struct AgentRequest {
    var id: TransactionID
    var source: TransportAddress
    var destination: TransportAddress
    var isCheck: Bool
    var relay: Int?
}

enum StreamState { case none, pending, open }

final class Scenario {
    let connection: Conn
    var now = Instant(nanoseconds: 1_000_000_000)
    var turnRequests: [TURNRequest] = []
    var agentRequests: [AgentRequest] = []
    /// Host bases and the bases given to UDP relays with relaySocketBound.
    var socketBases: [TransportAddress] = [hostV4, hostV6]
    /// Every relayed address an allocation reported.
    var relayedSeen: [TransportAddress] = []
    /// Per relay: the stream connection as the owner sees it, and the channels its client
    /// asked the server to bind (number, peer).
    var streams: [StreamState]
    var channels: [[(UInt16, TransportAddress)]]
    var generation = 0
    var endOfCandidatesSeen = false
    let remoteKey = IntegrityKey.shortTerm(password: remotePassword)
    let wrongKey = IntegrityKey.shortTerm(password: "not-the-password-at-all")

    init(_ config: UInt8) {
        var c = AgentConfiguration()
        c.role = config & 1 == 0 ? .controlling : .controlled
        c.consentFreshness = config & 16 == 0
        if config & 32 != 0 { c.stunServers = [stunServer] }
        let agent = Agent(configuration: c, random: SeededRandom(seed: UInt64(config) &+ 1))
        do throws(ICEError) {
            try agent.addHostCandidate(base: hostV4)
            try agent.addHostCandidate(base: hostV6)
        } catch {
            fail("host candidates refused on a fresh agent")
        }
        agent.setRemoteCredentials(ufrag: remoteUfrag, password: remotePassword)
        connection = Conn(agent: agent, random: SeededRandom(seed: UInt64(config) &+ 2), relayOnly: config & 8 != 0)
        let relays = (config >> 1) & 3
        if relays != 2 {
            connection.addRelay(RelayServer(server: udpServer, username: credentials[0].user,
                                            password: credentials[0].password), base: hostV4)
        }
        if relays != 1 {
            connection.addRelay(RelayServer(server: tcpServer, username: credentials[1].user,
                                            password: credentials[1].password, transport: .tcp,
                                            serverName: "turn.example.org", index: 1), base: nil)
        }
        streams = Array(repeating: .none, count: connection.relays.count)
        channels = Array(repeating: [], count: connection.relays.count)
        connection.start(now: now)
        drain()
        for i in 0..<Int(config >> 6) { addRemote(remoteHosts[i], priority: 2_130_706_431 - UInt32(i)) }
        drain()
    }

    var agent: Agent<SeededRandom> { connection.agent }
    var localKey: IntegrityKey { IntegrityKey.shortTerm(password: agent.localCredentials.passwordText) }

    func addRemote(_ address: TransportAddress, priority: UInt32, type: CandidateType = .host, component: UInt8 = 1) {
        let c = Candidate(type: type, component: component, priority: priority,
                          foundation: Foundation(number: Int(priority % 1000)), address: address)
        do throws(ICEError) { try connection.addRemoteCandidate(c, now: now) } catch { sink(error) }
    }

    // MARK: Output

    /// A relayed address that is not also one of our socket bases (a hostile server may
    /// hand out our own host address as the relayed one).
    func isRelayedOnly(_ a: TransportAddress) -> Bool { relayedSeen.contains(a) && !socketBases.contains(a) }

    func drain() {
        while let t = connection.pollTransmit() {
            let b = t.bytes
            require(!b.isEmpty, "an empty transmit")
            require(b.count <= TURNCapacities().transmitSlotSize, "a transmit larger than its slot")
            var relay: Int? = nil
            switch t.route {
            case .socket(let base):
                require(!isRelayedOnly(base), "a transmit from a relayed address on a socket route")
                require(socketBases.contains(base), "a transmit from a base that was never added")
                for r in connection.relays where !r.isStream && r.base == base && r.client.server == t.destination {
                    relay = r.index
                    break
                }
            case .stream(let index):
                require(index >= 0 && index < connection.relays.count && connection.relays[index].isStream,
                        "a stream transmit for no TCP relay")
                require(streams[index] == .open, "a stream transmit while the owner has no open connection")
                relay = index
            }
            trace("transmit \(t.route) -> \(t.destination): \(b.count) bytes")
            if let relay {
                serverBound(b, relay: relay)
            } else {
                guard case .socket(let base) = t.route else { fail("unreachable") }
                peerBound(b, from: base, to: t.destination, relay: nil)
            }
        }
        while let e = connection.pollEvent() {
            trace("event \(e)")
            event(e)
        }
        sink(connection.nextDeadline)
    }

    /// A datagram or frame for a relay's server: STUN or ChannelData. Requests are kept to
    /// be answered; what the agent sends through the relay is unwrapped and its requests kept.
    func serverBound(_ b: UnsafeRawBufferPointer, relay: Int) {
        let first = b[0]
        if first >= 0x40 && first < 0x80 {
            let cd: ChannelData
            do throws(ChannelDataError) {
                cd = try ChannelData(parsing: b)
            } catch {
                fail("a ChannelData transmit does not parse")
            }
            if let peer = channels[relay].last(where: { $0.0 == cd.channel })?.1 {
                relayedPayload(cd.payload, relay: relay, peer: peer)
            }
            return
        }
        let m: Message
        do throws(ParseError) {
            m = try Message(parsing: b)
        } catch {
            fail("a transmit to a server is neither STUN nor ChannelData")
        }
        require(m.checkFingerprint() != .bad, "a transmit with a wrong FINGERPRINT")
        if m.messageClass == .request {
            let realm = m.value(.realm).map { Array($0) }
            let sha = m.value(.passwordAlgorithm).map { $0.count >= 2 && $0.loadBigEndianUInt16(at: 0) == 2 } ?? false
            if turnRequests.count == 16 { turnRequests.removeFirst() }
            turnRequests.append(TURNRequest(relay: relay, method: m.method, id: m.transactionID, realm: realm, sha256: sha))
            if m.method == .channelBind, let n = m.value(.channelNumber), n.count >= 2,
               let peer = try? m.xorAddress(.xorPeerAddress) {
                if channels[relay].count == 16 { channels[relay].removeFirst() }
                channels[relay].append((n.loadBigEndianUInt16(at: 0), peer))
            }
        } else if m.messageClass == .indication && m.method == .send, let data = m.value(.data),
                  let peer = try? m.xorAddress(.xorPeerAddress) {
            relayedPayload(data, relay: relay, peer: peer)
        }
    }

    /// What the connection sent through a relay to `peer`: a check, a response or media.
    func relayedPayload(_ b: UnsafeRawBufferPointer, relay: Int, peer: TransportAddress) {
        guard let first = b.first, first < 4, let relayed = connection.relays[relay].client.relayedAddress,
              let m = try? Message(parsing: b), m.messageClass == .request
        else { return }
        keep(AgentRequest(id: m.transactionID, source: relayed, destination: peer, isCheck: m.contains(.username), relay: relay))
    }

    /// What the agent sends to a peer or a STUN server from a socket: STUN with FINGERPRINT.
    func peerBound(_ b: UnsafeRawBufferPointer, from base: TransportAddress, to destination: TransportAddress, relay: Int?) {
        let m: Message
        do throws(ParseError) {
            m = try Message(parsing: b)
        } catch {
            fail("a transmit to a peer does not parse as STUN")
        }
        require(m.checkFingerprint() == .ok, "a transmit to a peer without a valid FINGERPRINT")
        if m.messageClass == .request {
            keep(AgentRequest(id: m.transactionID, source: base, destination: destination, isCheck: m.contains(.username), relay: relay))
        }
    }

    func keep(_ r: AgentRequest) {
        if agentRequests.count == 16 { agentRequests.removeFirst() }
        agentRequests.append(r)
    }

    func event(_ e: ConnectionEvent) {
        switch e {
        case .localCandidate:
            require(!endOfCandidatesSeen, "a local candidate after end-of-candidates in the same generation")
        case .unsignaledCandidate:
            require(endOfCandidatesSeen, "an unsignaled candidate before end-of-candidates")
        case .endOfCandidates:
            require(!endOfCandidatesSeen, "end-of-candidates twice in one generation")
            endOfCandidatesSeen = true
        case .relayAllocated(_, let relayed, _):
            if !relayedSeen.contains(relayed) && relayedSeen.count < 64 { relayedSeen.append(relayed) }
        case .openStream(let i, _, _):
            require(i >= 0 && i < streams.count && connection.relays[i].isStream, "openStream for no TCP relay")
            // The owner closes the previous connection first.
            streams[i] = .pending
        case .closeStream(let i):
            require(i >= 0 && i < streams.count && connection.relays[i].isStream, "closeStream for no TCP relay")
            streams[i] = .none
        case .bindRelaySocket(let i):
            require(i >= 0 && i < streams.count && !connection.relays[i].isStream, "bindRelaySocket for no UDP relay")
        default:
            sink(e)
        }
    }

    // MARK: Input

    func checkInbound(_ inbound: Inbound, count: Int) {
        trace("inbound \(inbound)")
        switch inbound {
        case .consumed: break
        case .media(_, let local, let range), .unknownSource(_, let local, let range):
            require(range.lowerBound >= 0 && range.upperBound <= count, "a media range outside the input")
            require(socketBases.contains(local) || relayedSeen.contains(local), "media on a local address that is no base")
        }
    }

    func datagram(_ b: UnsafeRawBufferPointer, from: TransportAddress, to local: TransportAddress) {
        trace("datagram \(b.count) bytes \(from) -> \(local)")
        checkInbound(connection.handle(datagram: b, from: from, to: local, now: now), count: b.count)
    }

    /// What a relay's server sends: a datagram to the relay's base, or a frame on its open
    /// stream (none when the owner has no connection open: nothing could arrive).
    func fromServer(_ b: UnsafeRawBufferPointer, relay: Int) {
        let r = connection.relays[relay]
        if r.isStream {
            guard streams[relay] == .open else { return }
            trace("frame \(b.count) bytes on relay \(relay)")
            checkInbound(connection.handle(streamFrame: b, relay: relay, now: now), count: b.count)
        } else if let base = r.base {
            datagram(b, from: r.client.server, to: base)
        }
    }

    func timeout() {
        connection.handleTimeout(now: now)
        trace("handleTimeout at \(now.nanoseconds) ns: next deadline \(connection.nextDeadline.map { "\($0.nanoseconds) ns" } ?? "none"), state \(agent.state)")
        if deadlineInvariant, let d = connection.nextDeadline {
            require(d > now, "nextDeadline is not after the handleTimeout that just ran")
        }
    }

    func peerAddress(_ r: inout FuzzReader) -> TransportAddress {
        let k = r.u8()
        if k < 200 { return remoteHosts[Int(k) % remoteHosts.count] }
        return k & 1 == 0 ? TransportAddress(.v4(r.u32()), r.u16()) : TransportAddress(.v6(r.u64(), r.u64()), r.u16())
    }

    func address(_ r: inout FuzzReader) -> TransportAddress {
        let k = r.u8() % 8
        switch k {
        case 0, 1, 2: return relayedAddresses[Int(k)]
        case 3: return hostV4
        case 4: return remoteHosts[0]
        case 5: return TransportAddress(.v4(r.u32()), r.u16())
        default: return TransportAddress(.v6(r.u64(), r.u64()), r.u16())
        }
    }

    func hostBase(_ r: inout FuzzReader) -> TransportAddress {
        let k = Int(r.u8())
        return k < 128 ? [hostV4, hostV6][k % 2] : socketBases[k % socketBases.count]
    }

    func relayIndex(_ r: inout FuzzReader) -> Int? {
        let k = Int(r.u8())
        return connection.relays.isEmpty ? nil : k % connection.relays.count
    }

    func extraTLVs(_ r: inout FuzzReader, _ b: inout MessageBuilder, limit: Int) throws(BuildError) {
        var t = FuzzReader(r.bytes(Int(r.u8())))
        while t.remaining >= 4 {
            let at = AttributeType(t.u16())
            try b.append(at, bytes: t.bytes(Int(t.u16()) % limit))
        }
    }

    // MARK: Peer messages

    /// A message from a peer, built into `innerBuffer`: raw bytes, a check, a response to an
    /// agent request (one that went out by `relay`, nil for a socket) or a Binding indication.
    /// Returns the bytes and the peer it comes from (nil: nothing to send).
    func peerMessage(_ r: inout FuzzReader, relay: Int?) -> (UnsafeRawBufferPointer, TransportAddress)? {
        do throws(BuildError) {
            switch r.u8() % 4 {
            case 0:
                let from = peerAddress(&r)
                let n = min(Int(r.u16()) % 1400, innerBuffer.count)
                let raw = r.bytes(n)
                UnsafeMutableRawBufferPointer(rebasing: innerBuffer[0..<raw.count]).copyMemory(from: raw)
                return (UnsafeRawBufferPointer(rebasing: innerBuffer[0..<raw.count]), from)
            case 1:
                let flags = r.u8()
                let from = peerAddress(&r)
                var b = try MessageBuilder(into: innerBuffer, type: .bindingRequest, transactionID: TransactionID(high: r.u32(), low: r.u64()))
                let ours = agent.localCredentials.ufragText
                try b.append(.username, text: flags & 1 == 0 ? ours + ":" + remoteUfrag : "x" + ours + ":" + remoteUfrag)
                try b.append(.priority, uint32: r.u32())
                if flags & 2 != 0 { try b.append(.iceControlling, uint64: r.u64()) }
                if flags & 4 != 0 { try b.append(.iceControlled, uint64: r.u64()) }
                if flags & 8 != 0 { try b.appendFlag(.useCandidate) }
                if flags & 16 != 0 { try extraTLVs(&r, &b, limit: 256) }
                if flags & 32 == 0 { try b.appendMessageIntegrity(flags & 64 == 0 ? localKey : wrongKey) }
                try b.appendFingerprint()
                return (b.bytes, from)
            case 2:
                let candidates = agentRequests.filter { $0.relay == relay }
                guard !candidates.isEmpty else { return nil }
                let req = candidates[candidates.count - 1 - Int(r.u8()) % candidates.count]
                let flags = r.u8()
                let error = flags & 1 != 0
                var b = try MessageBuilder(into: innerBuffer, type: error ? .bindingError : .bindingSuccess, transactionID: req.id)
                if error {
                    let codes = [487, 400, 401, 420, 500]
                    let c = r.u8()
                    try b.appendErrorCode(c < 200 ? codes[Int(c) % codes.count] : 300 + Int(r.u16()) % 400)
                } else {
                    try b.append(.xorMappedAddress, xorAddress: flags & 2 == 0 ? req.source : peerAddress(&r))
                }
                if flags & 4 != 0 { try extraTLVs(&r, &b, limit: 256) }
                if req.isCheck && flags & 8 == 0 { try b.appendMessageIntegrity(flags & 16 == 0 ? remoteKey : wrongKey) }
                if flags & 32 == 0 { try b.appendFingerprint() }
                return (b.bytes, flags & 64 == 0 ? req.destination : peerAddress(&r))
            default:
                var b = try MessageBuilder(into: innerBuffer, type: .bindingIndication, transactionID: TransactionID(high: r.u32(), low: r.u64()))
                try b.appendFingerprint()
                return (b.bytes, peerAddress(&r))
            }
        } catch {
            sink(error)
            return nil
        }
    }

    /// Operation 5: a peer message on a host base (a response goes to the base its request
    /// left from, unless the fuzzer says otherwise).
    func fromPeer(_ r: inout FuzzReader) {
        let to = hostBase(&r)
        guard let (bytes, from) = peerMessage(&r, relay: nil) else { return }
        let local: TransportAddress
        if let first = bytes.first, first < 4, let m = try? Message(parsing: bytes), m.messageClass != .request,
           let req = agentRequests.last(where: { $0.id == m.transactionID && $0.relay == nil }) {
            local = req.source
        } else {
            local = to
        }
        datagram(bytes, from: from, to: local)
    }

    /// Operation 3: a peer message in a Data indication from the relay's server.
    func dataIndication(_ r: inout FuzzReader) {
        guard let relay = relayIndex(&r) else { return }
        let fingerprint = r.bool()
        guard let (payload, peer) = peerMessage(&r, relay: relay) else { return }
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: MessageType(.data, .indication),
                                       transactionID: TransactionID(high: r.u32(), low: r.u64()))
            try b.append(.xorPeerAddress, xorAddress: peer)
            try b.append(.data, bytes: payload)
            if fingerprint { try b.appendFingerprint() }
            fromServer(b.bytes, relay: relay)
        } catch {
            sink(error)
        }
    }

    /// Operation 4: a peer message as ChannelData from the relay's server.
    func channelData(_ r: inout FuzzReader) {
        guard let relay = relayIndex(&r) else { return }
        let fuzzed = r.u16()
        guard let (payload, peer) = peerMessage(&r, relay: relay) else { return }
        let client = connection.relays[relay].client
        let number = client.channel(for: peer) ?? channels[relay].last(where: { $0.1 == peer })?.0 ?? (0x4000 | fuzzed & 0x0FFF)
        do throws(ChannelDataError) {
            let n = try ChannelData.write(channel: number, payload: payload, transport: client.configuration.transport,
                                          into: packetBuffer)
            fromServer(UnsafeRawBufferPointer(rebasing: packetBuffer[0..<n]), relay: relay)
        } catch {
            sink(error)
        }
    }

    // MARK: TURN responses

    func pickTURNRequest(_ r: inout FuzzReader) -> TURNRequest? {
        guard !turnRequests.isEmpty else { return nil }
        return turnRequests[turnRequests.count - 1 - Int(r.u8()) % turnRequests.count]
    }

    func key(for request: TURNRequest) -> IntegrityKey {
        let realm = String(decoding: request.realm ?? Array("example.org".utf8), as: UTF8.self)
        let c = credentials[connection.relays[request.relay].isStream ? 1 : 0]
        return IntegrityKey.longTerm(username: c.user, realm: realm, password: c.password,
                                     algorithm: request.sha256 ? .sha256 : .md5)
    }

    /// Operation 1: the fuzzer's TLVs in a response to a relay's request.
    func rawResponse(_ r: inout FuzzReader) {
        guard let req = pickTURNRequest(&r) else { return }
        let flags = r.u8()
        let tlvs = r.field()
        let type = MessageType(req.method, flags & 1 == 0 ? .successResponse : .errorResponse)
        do throws(BuildError) {
            var b = try MessageBuilder(into: packetBuffer, type: type, transactionID: req.id)
            var t = FuzzReader(tlvs)
            while t.remaining >= 4 {
                let at = AttributeType(t.u16())
                try b.append(at, bytes: t.bytes(Int(t.u16()) % 512))
            }
            if flags & 2 != 0 { try b.appendMessageIntegrity(key(for: req)) }
            if flags & 4 != 0 { try b.appendMessageIntegritySHA256(key(for: req)) }
            if flags & 8 == 0 { try b.appendFingerprint() }
            fromServer(b.bytes, relay: req.relay)
        } catch {
            sink(error)
        }
    }

    /// Operation 2: a response to a relay's request built from typed fields.
    func typedResponse(_ r: inout FuzzReader) {
        guard let req = pickTURNRequest(&r) else { return }
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
                try b.append(.alternateServer, address: r.bool() ? alternateServer : address(&r))
            }
            if present & 256 != 0 { try b.append(.alternateDomain, bytes: r.bytes(Int(r.u8()) % 64)) }
            if present & 512 != 0 { try b.append(.channelNumber, uint32: r.u32()) }
            // Challenges are unsigned; everything else is signed unless the fuzzer says no.
            if present & 1024 == 0 && !(error && realm != nil) {
                if req.sha256 { try b.appendMessageIntegritySHA256(key(for: req)) } else { try b.appendMessageIntegrity(key(for: req)) }
            }
            if present & 2048 == 0 { try b.appendFingerprint() }
            fromServer(b.bytes, relay: req.relay)
        } catch {
            sink(error)
        }
    }

    // MARK: Operations

    func run(_ r: inout FuzzReader) {
        var ops = 0
        while !r.isEmpty && ops < 64 {
            ops += 1
            let op = r.u8() % 16
            trace("op \(op)")
            switch op {
            case 0:
                let k = r.u8()
                let to = hostBase(&r)
                let from: TransportAddress
                switch k % 4 {
                case 0: from = udpServer
                case 1: from = alternateServer
                case 2: from = stunServer
                default: from = peerAddress(&r)
                }
                datagram(r.field(), from: from, to: to)
            case 1: rawResponse(&r)
            case 2: typedResponse(&r)
            case 3: dataIndication(&r)
            case 4: channelData(&r)
            case 5: fromPeer(&r)
            case 6:
                if let relay = relayIndex(&r) { fromServer(r.field(), relay: relay) }
            case 7:
                let types: [CandidateType] = [.host, .serverReflexive, .peerReflexive, .relayed]
                let k = r.u8()
                addRemote(peerAddress(&r), priority: r.u32(), type: types[Int(k) % 4], component: k & 4 == 0 ? 1 : 2)
            case 8: connection.setRemoteEndOfCandidates(now: now)
            case 9:
                let again = r.bool()
                connection.restart(now: now)
                generation += 1
                endOfCandidatesSeen = false
                agentRequests.removeAll()
                if again { agent.setRemoteCredentials(ufrag: remoteUfrag, password: remotePassword) }
            case 10:
                let route = connection.sendMedia(r.bytes(Int(r.u16()) % 1400), now: now)
                trace("sendMedia: \(route)")
                if case .direct(let source, _) = route {
                    require(!isRelayedOnly(source), "media sent directly from a relayed address")
                    require(socketBases.contains(source), "media sent directly from no base")
                }
            case 11:
                let k = r.u8()
                let base = reboundBases[Int(k >> 2) % reboundBases.count]
                guard let relay = relayIndex(&r) else { break }
                if !connection.relays[relay].isStream && !socketBases.contains(base) { socketBases.append(base) }
                connection.relaySocketBound(relay: relay, base: base)
            case 12:
                let k = r.u8()
                guard let relay = relayIndex(&r), connection.relays[relay].isStream else { break }
                if k & 1 == 0 && streams[relay] == .pending {
                    streams[relay] = .open
                    connection.streamOpened(relay: relay, now: now)
                } else if streams[relay] != .none {
                    streams[relay] = .none
                    connection.streamFailed(relay: relay, now: now)
                }
            case 13:
                if r.u8() == 0x5A { connection.close(now: now) }
            case 14:
                now = now + .milliseconds(Int64(r.u16()))
                timeout()
            default:
                if let d = connection.nextDeadline, d > now { now = d }
                timeout()
            }
            drain()
        }
        sink(agent.counters)
        sink(connection.gatheringDone)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let s = Scenario(r.u8())
    s.run(&r)
    return 0
}
