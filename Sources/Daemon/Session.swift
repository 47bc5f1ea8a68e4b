import Common
import Connectivity
import DTLS
import ICE
import MDNS
import RTP
import Runtime
import SDP
import STUN
import TURN

/// One ICE session on real sockets: the I/O shell around a `Connection` (the agent and its
/// TURN allocations). It owns the bases (one UDP socket per interface address), the relays'
/// own sockets and stream connections, signaling, and the media relay between local RTP
/// ports and the selected pair.
public final class Session: TimerClient {
    public let name: String
    public let connection: Connection<SystemRandom>
    public var agent: Agent<SystemRandom> { connection.agent }
    public let loop: EventLoop
    var sockets: [UDPSocket] = []
    /// The session's own signaling transport: what goes out is handed to it, what came in
    /// is polled from it on the session's timer.
    public var signaling: (any SignalingTransport)?
    let media: MediaConfig
    /// RTP to and from the local pipeline, checked and counted.
    public let mediaRelay = MediaRelay()
    public internal(set) var everConnected = false
    /// When ICE first completed (the loop's time of the packet or timer that did it).
    public internal(set) var completedAt: Instant? = nil
    /// DTLS-SRTP failed: the call's media could not be protected.
    public internal(set) var mediaFailed = false
    /// The I/O side of each of the connection's relays, by the same index.
    var links: [RelayLink] = []
    var descriptionSent = false
    var remoteDescriptionReceived = false
    /// The controlling agent offers (`call`, the demo's doorbell); the other answers.
    let offerer: Bool
    /// The certificate DTLS presents; nil for clear media.
    let identity: DTLSIdentity?
    /// The peer's offer, which this session's description answers (the answerer only).
    var remoteOffer: SessionDescription? = nil
    /// The peer's certificate fingerprint from its first description: a later one (an ICE
    /// restart) must name the same.
    var peerFingerprint: Fingerprint? = nil
    /// An ICE restart of ours waits for the peer's new credentials until then.
    var restartPending = false
    var restartDeadline: Instant? = nil
    /// ICE restarts of this call (ours and the peer's).
    public internal(set) var restarts = 0
    /// Our restart got no answer: the call could not recover.
    public internal(set) var restartFailed = false
    /// Whether this side restarts ICE itself when consent is lost (RFC 7675 §5.1
    /// "disconnected"), the NAT rebound or the host's addresses changed: set when the
    /// signaling can carry a restart to the peer (not a WHIP server's: RFC 9725 §4.3.3).
    public var initiatesRestarts = false
    /// mDNS names of the peer's host candidates (Session+MDNS), and the resolver, opened at
    /// the first one.
    var pendingHostnames: [HostnameCandidate] = []
    var remoteEndOfCandidatesHeld = false
    var mdns: MDNSResolver? = nil
    var receiveBuffer = [UInt8](repeating: 0, count: 2048)
    /// Media that came in a relay's stream frame, copied to be unprotected in place.
    var streamMedia = [UInt8](repeating: 0, count: 2048)
    /// For the owner, polled on the loop (`eventDeadline`, `pollEvent`).
    var events = OwnerEvents<SessionEvent>()
    /// Every datagram on the base sockets, for Wireshark (`--pcap`).
    public var pcap: PcapWriter?
    /// RFC 5780 behaviour discovery for the status report (Session+NATType): due at
    /// `natTypeDue`, then running or decided.
    public internal(set) var natType: NATTypeProbe? = nil
    var natTypeDue: Instant? = nil

    public init(name: String, role: Role, stunServers: [TransportAddress], addresses: [IPAddress], loop: EventLoop,
                media: MediaConfig = MediaConfig(), identity: DTLSIdentity? = nil, turnServers: [TURNServerConfig] = [],
                relayOnly: Bool = false) throws(SessionError) {
        self.name = name
        self.loop = loop
        self.media = media
        self.offerer = role == .controlling
        self.identity = media.security == .dtlsSrtp ? identity : nil
        guard media.security == .none || identity != nil else { throw .noIdentity }
        var config = AgentConfiguration()
        config.role = role
        config.stunServers = stunServers
        // Loopback peers only when the user let this agent use loopback itself.
        config.allowLoopback = addresses.contains { $0.isLoopback }
        let random = SystemRandom()
        connection = Connection(agent: Agent(configuration: config, random: random.split()), random: random,
                                relayOnly: relayOnly)
        for ip in addresses {
            // Relay-only: the sockets still carry TURN, but no host candidate is offered.
            if let s = openBase(ip), !relayOnly { _ = try? agent.addHostCandidate(base: s.localAddress) }
        }
        guard !sockets.isEmpty else { throw .noUsableAddress }
        addRelays(turnServers)
        loop.addTimerClient(self)
    }

    public func start(now: Instant) {
        connection.start(now: now)
        pump(now: now)
    }

    /// Every kind of gathering ended (end-of-candidates is signaled, or in the description).
    public var gatheringDone: Bool { connection.gatheringDone }

    // MARK: Signaling in

    func receiveDescription(_ text: String, now: Instant) throws(SDPError) {
        let d = try SessionDescription.parse(text)
        if remoteDescriptionReceived { return try receiveLaterDescription(d, now: now) }
        guard d.credentials(media: Self.transportSection(d)) != nil else { throw SDPError(.badCredentials, line: 0) }
        let peer = try peerMedia(d)
        let section = peer.section
        guard let creds = d.credentials(media: section) else { throw SDPError(.badCredentials, line: 0) }
        logSkipped(d.skippedCandidates, resolving: section < d.media.count ? d.media[section].hostnameCandidates : [])
        agent.setRemoteCredentials(ufrag: creds.ufrag, password: creds.pwd)
        if d.iceLite { agent.remoteIsLite = true }
        remoteDescriptionReceived = true
        if !offerer { remoteOffer = d }
        peerFingerprint = peer.dtls?.fingerprint
        // The first checks go out before DTLS is set up: its setup is CPU time the peer's
        // answers to them do not have to wait behind. Nothing of DTLS or media can arrive
        // before this returns to the loop.
        takeCandidates(of: d, section: section, now: now)
        applyPeerMedia(peer, now: now)
    }

    /// The candidates and end-of-candidates of the peer's transport section.
    func takeCandidates(of d: SessionDescription, section: Int, now: Instant) {
        if section < d.media.count {
            let m = d.media[section]
            for c in m.candidates { addRemoteCandidate(c, now: now) }
            resolveHostnames(m.hostnameCandidates, now: now)
            if m.endOfCandidates { remoteEndOfCandidates(now: now) }
            // The whole description is in: the first check goes now, to the best pair of all
            // of it (RFC 8445 §6.1.4.2), not on the loop's next turn behind what else this one
            // still does (DTLS set-up).
            connection.handleTimeout(now: now)
        }
        pump(now: now)
    }

    /// A trickle fragment's candidates and end-of-candidates (RFC 8840).
    func receiveFragment(_ f: TrickleFragment, now: Instant) {
        logSkipped(f.skippedCandidates, resolving: f.hostnameCandidates)
        for c in f.candidates { addRemoteCandidate(c, now: now) }
        resolveHostnames(f.hostnameCandidates, now: now)
        if f.endOfCandidates { remoteEndOfCandidates(now: now) }
        pump(now: now)
    }

    func receiveCandidate(_ c: Candidate, now: Instant) {
        addRemoteCandidate(c, now: now)
        pump(now: now)
    }

    func receiveEndOfCandidates(now: Instant) {
        remoteEndOfCandidates(now: now)
        pump(now: now)
    }

    /// A remote candidate for the connection; one the agent cannot use is logged and ignored
    /// (RFC 8839 §5.1).
    func addRemoteCandidate(_ c: Candidate, now: Instant) {
        guard c.component == 1, c.transport == .udp else {
            Log.info("\(name): candidate \(c.address) ignored (component \(c.component), \(c.transport == .udp ? "UDP" : "TCP"))")
            return
        }
        do throws(ICEError) { try connection.addRemoteCandidate(c, now: now) } catch {
            Log.info("\(name): candidate \(c.address) ignored (\(error.reasonText))")
        }
    }

    func logSkipped(_ skipped: [SkippedCandidate], resolving hostnames: [HostnameCandidate] = []) {
        for s in skipped where !hostnames.contains(where: { $0.line == s.line }) {
            Log.info("\(name): SDP line \(s.line): candidate ignored (\(SDPError(s.reason, line: 0).reasonText))")
        }
    }

    // MARK: Event loop

    public var nextDeadline: Instant? {
        var d = connection.nextDeadline
        for t in [signaling?.inboundDeadline, mdns?.resultDeadline, restartPending ? restartDeadline : nil, natTypeDue] {
            if let t, d == nil || t < d! { d = t }
        }
        return d
    }

    /// When the owner must poll: an event has waited since then (nil: none waits).
    public var eventDeadline: Instant? { events.deadline }

    public func pollEvent() -> SessionEvent? { events.pop() }

    public func handleTimeout(now: Instant) {
        while let m = signaling?.pollInbound() { receive(m, now: now) }
        takeMDNSResults(now: now)
        if restartPending, let due = restartDeadline, now >= due { restartUnanswered(now: now) }
        if let due = natTypeDue, now >= due { startNATType() }
        connection.handleTimeout(now: now)
        pump(now: now)
    }

    /// A message from the peer's signaling.
    func receive(_ m: SignalingMessage, now: Instant) {
        switch m {
        case .description(let text):
            do throws(SDPError) { try receiveDescription(text, now: now) } catch {
                Log.error("\(name): peer description rejected: \(error.description)")
                events.push(.descriptionRejected, now: now)
            }
        case .candidate(let c): receiveCandidate(c, now: now)
        case .endOfCandidates: receiveEndOfCandidates(now: now)
        case .restartAnswer(let text): receiveRestartAnswer(text, now: now)
        case .closed:
            if !remoteDescriptionReceived { events.push(.signalingClosedWithoutPeer, now: now) }
        }
    }

    /// A datagram on a base socket (or a relay's own socket).
    /// `bytes` is the reader's own buffer: SRTP is unprotected in place.
    func received(_ bytes: UnsafeMutableRawBufferPointer, from: TransportAddress, on socket: UDPSocket, now: Instant) {
        pcap?.record(UnsafeRawBufferPointer(bytes), from: from, to: socket.localAddress)
        let inbound = connection.handle(datagram: UnsafeRawBufferPointer(bytes), from: from, to: socket.localAddress, now: now)
        if case .media(_, _, let range) = inbound {
            fromPeer(UnsafeMutableRawBufferPointer(rebasing: bytes[range]), now: now)
        } else {
            mediaRelay.fromPeer(inbound)
        }
        pump(now: now)
    }

    /// A host base: a UDP socket bound to `ip` on a port the kernel picks, read on the loop;
    /// nil (logged) when it cannot be bound.
    func openBase(_ ip: IPAddress) -> UDPSocket? {
        do throws(SocketError) {
            let s = try UDPSocket(bind: TransportAddress(ip, 0))
            sockets.append(s)
            try? loop.register(fd: s.descriptor, SocketReader(session: self, socket: s))
            return s
        } catch {
            Log.warning("\(name): cannot bind \(ip): \(error.description)")
            return nil
        }
    }

    func sendDescription() {
        descriptionSent = true
        signaling?.sendDescription(currentDescription())
    }

    public func close() {
        let now = monotonicNow()
        connection.close(now: now)
        sendTransmits()
        closeRelayLinks()
        loop.removeTimerClient(self)
        for s in sockets { loop.unregister(fd: s.descriptor) }
        if let rtpIn = mediaRelay.rtpIn { loop.unregister(fd: rtpIn.descriptor) }
        mediaRelay.detach()
        sockets.removeAll()
        mdns?.close()
        mdns = nil
        natType?.close()
        natTypeDue = nil
    }
}

public enum SessionError: Error {
    case noUsableAddress
    case mediaBind(TransportAddress, String)
    case turnServer(String)
    /// DTLS-SRTP without a certificate to present.
    case noIdentity

    public var description: String {
        switch self {
        case .noIdentity: return "media protection (DTLS-SRTP) needs an identity (--identity FILE)"
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
                session.received(UnsafeMutableRawBufferPointer(rebasing: buf[0..<n]), from: from, on: socket, now: now)
            }
        }
    }
}

/// Datagrams a reader takes from one socket per event-loop wakeup.
let readBudget = 64
