import Common
import ICE
import RTP
import Runtime
import SDP
import STUN
import TURN

/// One ICE session on real sockets: the agent, its bases (one UDP socket per interface
/// address), signaling, and the media relay between local RTP ports and the selected pair.
public final class Session: TimerClient {
    public let name: String
    public let agent: Agent<SystemRandom>
    public let loop: EventLoop
    var sockets: [UDPSocket] = []
    // Strong references: Embedded Swift has no weak; sessions live as long as the process.
    public var signaling: (any SignalingSink)?
    let media: MediaConfig
    /// RTP from the local camera pipeline arrives here and goes to the peer.
    public internal(set) var rtpIn: UDPSocket?
    /// RTP from the peer goes here (intercom speaker, recorder).
    var rtpOut: TransportAddress?
    var outSocket: UDPSocket?
    public internal(set) var toPeer = StreamCounters()
    public internal(set) var fromPeer = StreamCounters()
    public internal(set) var droppedUnknownSource = 0
    public internal(set) var droppedNotRTP = 0
    /// Local media that arrived before a pair was selected (nowhere to send it yet).
    public internal(set) var droppedNoPair = 0
    public internal(set) var everConnected = false
    let turnServers: [TURNServerConfig]
    let relayOnly: Bool
    var relays: [Relay] = []
    var agentGatheringDone = false
    var endOfCandidatesPending = false
    var gatheringDone = false
    var descriptionSent = false
    var remoteDescriptionReceived = false
    var receiveBuffer = [UInt8](repeating: 0, count: 2048)
    public var onStateChange: ((AgentState) -> Void)?
    /// Every datagram on the base sockets, for Wireshark (`--pcap`).
    public var pcap: PcapWriter?

    public init(name: String, role: Role, stunServers: [TransportAddress], addresses: [IPAddress], loop: EventLoop,
         media: MediaConfig = MediaConfig(), turnServers: [TURNServerConfig] = [], relayOnly: Bool = false) throws(SessionError) {
        self.name = name
        self.loop = loop
        self.media = media
        self.turnServers = turnServers
        self.relayOnly = relayOnly
        var config = AgentConfiguration()
        config.role = role
        config.stunServers = stunServers
        // Loopback peers only when the user let this agent use loopback itself.
        config.allowLoopback = addresses.contains { $0.isLoopback }
        agent = Agent(configuration: config, random: SystemRandom())
        for ip in addresses {
            do throws(SocketError) {
                let s = try UDPSocket(bind: TransportAddress(ip, 0))
                sockets.append(s)
                // Relay-only: the sockets still carry TURN, but no host candidate is offered.
                if !relayOnly { try? agent.addHostCandidate(base: s.localAddress) }
                try? loop.register(fd: s.descriptor, SocketReader(session: self, socket: s))
            } catch {
                Log.warning("\(name): cannot bind \(ip): \(error.description)")
            }
        }
        guard !sockets.isEmpty else { throw .noUsableAddress }
        loop.addTimerClient(self)
    }

    /// Binds the media ports.
    public func attachMedia(rtpIn inAddress: TransportAddress?, rtpOut out: TransportAddress?) throws(SessionError) {
        if let inAddress {
            do throws(SocketError) {
                let s = try UDPSocket(bind: inAddress)
                rtpIn = s
                try? loop.register(fd: s.descriptor, IngressReader(session: self, socket: s))
            } catch {
                throw .mediaBind(inAddress, error.description)
            }
        }
        if let out {
            rtpOut = out
            do throws(SocketError) {
                outSocket = try UDPSocket(bind: TransportAddress(out.ip.isIPv4 ? .v4Any : .v6(0, 0), 0))
            } catch {
                throw .mediaBind(out, error.description)
            }
        }
    }

    public func start(now: Instant) {
        if !relayOnly { agent.startGathering(now: now) } else { agentGatheringDone = true }
        startRelays(now: now)
        flush(now: now)
    }

    // MARK: Signaling in

    func receiveDescription(_ text: String, now: Instant) throws(SDPError) {
        let d = try SessionDescription.parse(text)
        guard let creds = d.credentials(media: 0) else { throw SDPError(.badCredentials, line: 0) }
        logSkipped(d.skippedCandidates)
        agent.setRemoteCredentials(ufrag: creds.ufrag, password: creds.pwd)
        if d.iceLite { agent.remoteIsLite = true }
        remoteDescriptionReceived = true
        for m in d.media.prefix(1) {
            for c in m.candidates { addRemoteCandidate(c, now: now) }
            if m.endOfCandidates { agent.setRemoteEndOfCandidates(now: now) }
        }
        flush(now: now)
    }

    /// A trickle fragment's candidates and end-of-candidates (RFC 8840).
    func receiveFragment(_ f: TrickleFragment, now: Instant) {
        logSkipped(f.skippedCandidates)
        for c in f.candidates { addRemoteCandidate(c, now: now) }
        if f.endOfCandidates { agent.setRemoteEndOfCandidates(now: now) }
        flush(now: now)
    }

    func receiveCandidate(_ c: Candidate, now: Instant) {
        addRemoteCandidate(c, now: now)
        flush(now: now)
    }

    /// A remote candidate for the agent (and a permission on each relay, RFC 8656 §9); one the
    /// agent cannot use is logged and ignored (RFC 8839 §5.1).
    func addRemoteCandidate(_ c: Candidate, now: Instant) {
        guard c.component == 1, c.transport == .udp else {
            Log.info("\(name): candidate \(c.address) ignored (component \(c.component), \(c.transport == .udp ? "UDP" : "TCP"))")
            return
        }
        do throws(ICEError) {
            try agent.addRemoteCandidate(c, now: now)
            permitOnRelays(c.address, now: now)
        } catch {
            Log.info("\(name): candidate \(c.address) ignored (\(error.reasonText))")
        }
    }

    func logSkipped(_ skipped: [SkippedCandidate]) {
        for s in skipped {
            Log.info("\(name): SDP line \(s.line): candidate ignored (" + SDPError(s.reason, line: 0).reasonText + ")")
        }
    }

    func receiveEndOfCandidates(now: Instant) {
        agent.setRemoteEndOfCandidates(now: now)
        flush(now: now)
    }

    // MARK: Event loop

    public var nextDeadline: Instant? {
        var d = agent.nextDeadline
        for r in relays {
            if let t = r.client.nextDeadline, d == nil || t < d! { d = t }
        }
        return d
    }

    public func handleTimeout(now: Instant) {
        // Relay events handled in `flush` can give the agent work due at once (a relayed
        // candidate to pair): settle it here, boundedly, so no deadline is left at `now`.
        for _ in 0..<4 {
            if let d = agent.nextDeadline, d <= now { agent.handleTimeout(now: now) }
            for r in relays {
                if let t = r.client.nextDeadline, t <= now { r.client.handleTimeout(now: now) }
            }
            flush(now: now)
            guard let d = nextDeadline, d <= now else { break }
        }
    }

    /// Sends what the agent queued and acts on its events.
    func flush(now: Instant) {
        while let t = agent.pollTransmit() {
            send(t.bytes, from: t.source, to: t.destination, now: now)
        }
        flushRelays(now: now)
        while let t = agent.pollTransmit() {  // relay events may have made the agent send
            send(t.bytes, from: t.source, to: t.destination, now: now)
        }
        flushRelays(now: now)
        while let e = agent.pollEvent() {
            switch e {
            case .localCandidate(let c):
                Log.debug("\(name): local candidate " + CandidateLine.format(c))
                if descriptionSent && gatheringDone && !endOfCandidatesPending {
                    // A relay re-allocated after end-of-candidates went out: RFC 8838 allows no
                    // new candidates after it without a restart. Its checks still reach the peer,
                    // which learns it as peer-reflexive (RFC 8445 §7.3.1.3).
                    Log.info("\(name): \(c.address) not signaled (after end-of-candidates)")
                } else if descriptionSent {
                    signaling?.sendCandidate(c)
                }
            case .gatheringComplete:
                agentGatheringDone = true
                checkGatheringDone()
            case .stateChanged(let s):
                Log.info("\(name): ICE \(s.name.description)")
                if s == .connected || s == .completed { everConnected = true }
                onStateChange?(s)
            case .selectedPair(_, let l, let r, let nominated):
                if l.type == .relayed { bindChannel(relayed: l.address, peer: r.address, now: now) }
                Log.info("\(name): selected \(l.address) -> \(r.address) (\(l.type.sdpName.description)/\(r.type.sdpName.description))\(nominated ? " nominated" : "")")
            case .roleChanged(let role):
                Log.info("\(name): role \(role.name.description)")
            case .tableFull(let t):
                Log.warning("\(name): table full: \(t.name.description)")
            }
        }
        sendEndOfCandidatesIfPending()
        // Trickle: the description goes out at once with the host candidates (RFC 8838 §4).
        if !descriptionSent { sendDescription() }
    }

    func sendDescription() {
        descriptionSent = true
        signaling?.sendDescription(currentDescription())
    }

    func currentDescription() -> String {
        makeDescription(agent: agent, media: media, lite: agent.configuration.lite, endOfCandidates: gatheringDone)
    }

    // MARK: Media

    /// A datagram on a base socket.
    func received(_ bytes: UnsafeRawBufferPointer, from: TransportAddress, on socket: UDPSocket, now: Instant) {
        pcap?.record(bytes, from: from, to: socket.localAddress)
        if receivedFromRelay(bytes, from: from, on: socket, now: now) { return }
        let d = agent.handle(packet: bytes, from: from, to: socket.localAddress, now: now)
        if d == .notSTUN { relayFromPeer(bytes, from: from, on: socket.localAddress, now: now) }
        flush(now: now)
    }

    func relayFromPeer(_ bytes: UnsafeRawBufferPointer, from: TransportAddress, on local: TransportAddress, now: Instant) {
        // Media only from the remote end of a proven pair (the selected one first: the cheap
        // common case); anything else is dropped and counted.
        let selected = agent.selectedPair()
        guard (selected?.remote.address == from && selected?.local.base == local) || agent.acceptsMedia(from: from, on: local) else {
            droppedUnknownSource += 1
            return
        }
        switch PacketKind.classify(bytes) {
        case .rtp:
            guard let h = try? RTPHeader(parsing: bytes) else {
                fromPeer.recordInvalid()
                return
            }
            fromPeer.recordRTP(h, size: bytes.count, now: now)
        case .rtcp:
            fromPeer.recordRTCP(size: bytes.count, now: now)
        default:
            droppedNotRTP += 1
            return
        }
        if let rtpOut, let outSocket { try? outSocket.send(bytes, to: rtpOut) }
    }

    /// RTP from the local pipeline: forward over the selected pair.
    func relayToPeer(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        switch PacketKind.classify(bytes) {
        case .rtp:
            guard let h = try? RTPHeader(parsing: bytes) else {
                toPeer.recordInvalid()
                return
            }
            guard let pair = agent.selectedPair() else {
                droppedNoPair += 1
                return
            }
            toPeer.recordRTP(h, size: bytes.count, now: now)
            send(bytes, from: pair.local.base, to: pair.remote.address, now: now)
        case .rtcp:
            guard let pair = agent.selectedPair() else {
                droppedNoPair += 1
                return
            }
            toPeer.recordRTCP(size: bytes.count, now: now)
            send(bytes, from: pair.local.base, to: pair.remote.address, now: now)
        default:
            toPeer.recordInvalid()
        }
    }

    public func close() {
        closeRelays(now: monotonicNow())
        agent.close()
        loop.removeTimerClient(self)
        for s in sockets { loop.unregister(fd: s.descriptor) }
        if let rtpIn { loop.unregister(fd: rtpIn.descriptor) }
        // The descriptors close now, not when the last reference goes: the next call binds
        // the same media ports at once.
        rtpIn = nil
        outSocket = nil
        relays.removeAll()
        sockets.removeAll()
    }
}

public enum SessionError: Error {
    case noUsableAddress
    case mediaBind(TransportAddress, String)
    case turnServer(String)

    public var description: String {
        switch self {
        case .noUsableAddress: return "no usable local address (see --interface / --allow-loopback)"
        case .mediaBind(let a, let e): return "cannot bind media port \(a): \(e)"
        case .turnServer(let u): return "cannot resolve TURN server " + u
        }
    }
}

/// Reads a base socket until it would block.
final class SocketReader: ReadableHandler {
    let session: Session
    let socket: UDPSocket
    init(session: Session, socket: UDPSocket) {
        self.session = session
        self.socket = socket
    }

    func readable(now: Instant) {
        session.receiveBuffer.withUnsafeMutableBytes { buf in
            // At most `readBudget` datagrams per wakeup: epoll is level-triggered, so the rest
            // waits one turn while timers (consent) and the other sockets get theirs.
            var budget = readBudget
            while budget > 0, let (n, from) = (try? socket.tryReceive(into: buf)) ?? nil {
                budget -= 1
                session.received(UnsafeRawBufferPointer(rebasing: buf[0..<n]), from: from, on: socket, now: now)
            }
        }
    }
}

/// Reads the RTP ingress port until it would block.
final class IngressReader: ReadableHandler {
    let session: Session
    let socket: UDPSocket
    var buffer = [UInt8](repeating: 0, count: 2048)
    init(session: Session, socket: UDPSocket) {
        self.session = session
        self.socket = socket
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            var budget = readBudget
            while budget > 0, let (n, _) = (try? socket.tryReceive(into: buf)) ?? nil {
                budget -= 1
                session.relayToPeer(UnsafeRawBufferPointer(rebasing: buf[0..<n]), now: now)
            }
        }
    }
}

extension Session {
    /// One JSON object: what `ice-agent status` shows.
    public var statusJSON: String {
        var out = "{\"name\":\"\(name)\",\"role\":\"\(agent.role.name.description)\",\"state\":\"\(agent.state.name.description)\""
        if let p = agent.selectedPair() {
            out += ",\"selected\":{\"local\":\"\(p.local.address)\",\"remote\":\"\(p.remote.address)\","
            out += "\"types\":\"\(p.local.type.sdpName.description)/\(p.remote.type.sdpName.description)\",\"nominated\":\(p.nominated)}"
        }
        out += ",\"media\":{\"sent_packets\":\(toPeer.packets),\"sent_bytes\":\(toPeer.bytes),\"received_packets\":\(fromPeer.packets)"
        out += ",\"received_bytes\":\(fromPeer.bytes),\"sequence_gaps\":\(fromPeer.sequenceGaps),\"invalid\":\(fromPeer.invalid)"
        out += ",\"dropped_unknown_source\":\(droppedUnknownSource),\"dropped_no_pair\":\(droppedNoPair)}"
        let c = agent.counters
        out += ",\"stun\":{\"checks_sent\":\(c.checksSent),\"responses_sent\":\(c.responsesSent),\"malformed\":\(c.malformed)"
        out += ",\"unauthenticated\":\(c.unauthenticated),\"role_conflicts\":\(c.roleConflicts)}"
        // TURN allocations: which server, over what, and whether a relayed address is held now.
        out += ",\"relays\":["
        for (i, r) in relays.enumerated() {
            out += (i > 0 ? "," : "") + "{\"server\":\"\(r.label)\",\"state\":\"\(r.client.state.name.description)\""
            if let a = r.client.relayedAddress, r.client.state == .allocated { out += ",\"relayed\":\"\(a)\"" }
            out += ",\"failures\":\(r.failures)}"
        }
        out += "]}"
        return out
    }
}

/// Datagrams a reader takes from one socket per event-loop wakeup.
let readBudget = 64
