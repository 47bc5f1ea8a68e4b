import Common
import ICE
import TURN

/// The agent type the simulator drives: randomness from a seed, so runs are reproducible.
public typealias SimulatedAgent = Agent<SeededRandom>

/// A non-STUN datagram (media) an agent endpoint received, as addressed on arrival: `to` is
/// the local base, the relayed address for data that came through the relay.
public struct MediaDatagram: Equatable {
    public var at: Instant
    public var from: TransportAddress
    public var to: TransportAddress
    public var bytes: [UInt8]
}

/// An ICE agent living on a simulated host, with an in-simulation signaling channel to its
/// peer: local candidates, end-of-candidates and credentials reach the peer after
/// `signalingDelay` on the virtual clock (trickle ICE, RFC 8838). With `relay` set before
/// `start`, it also allocates a relayed candidate on that TURN server (`AgentRelay`).
public final class AgentEndpoint: SimulatedEndpoint {
    public enum Signal {
        case credentials(ufrag: String, password: String)
        case candidate(Candidate)
        case endOfCandidates
        case lite
    }

    let name: String
    public let agent: SimulatedAgent
    public var peer: AgentEndpoint?
    public var signalingDelay = Interval.milliseconds(50)
    /// While true, trickled candidates and end-of-candidates are held back (delivered when
    /// released); credentials, part of the offer/answer itself, still go.
    public var holdSignaling = false
    var held: [Signal] = []
    var inbox: [(at: Instant, signal: Signal)] = []
    private(set) var log: [(at: Instant, event: Event)] = []
    /// Drop everything received (a peer that never answers).
    public var deaf = false
    /// When the last trickled candidate from the peer was handed to the agent (nil before any).
    public private(set) var lastRemoteCandidateAt: Instant?

    /// The TURN server to allocate a relayed candidate on; read by `start`.
    public var relay: RelayConfiguration?
    var turn: AgentRelay?
    /// The agent's own gathering ended; end-of-candidates also waits for the relay, since it
    /// promises that every candidate, the relayed one included, has been sent (RFC 8838 §13).
    var endOfCandidatesPending = false
    /// Media sent on a direct selected pair, waiting for the network to poll it.
    var mediaOutbox = Outbox()
    public private(set) var mediaReceived: [MediaDatagram] = []
    /// The last instant the network handed us: `pollTransmit` has no `now`, but a datagram
    /// the agent sends from its relayed candidate starts TURN transactions that need one.
    var clock = Instant.zero

    public init(_ name: String, _ agent: SimulatedAgent) {
        self.name = name
        self.agent = agent
    }

    public func send(_ s: Signal, now: Instant) {
        var trickle = true
        if case .credentials = s { trickle = false }
        if case .lite = s { trickle = false }
        if holdSignaling && trickle {
            held.append(s)
        } else {
            peer?.inbox.append((now + signalingDelay, s))
        }
    }

    public func releaseSignaling(now: Instant) {
        holdSignaling = false
        for s in held { send(s, now: now) }
        held.removeAll()
    }

    /// Signals credentials (and ICE-lite) and starts gathering, and the TURN allocation if
    /// `relay` is set.
    public func start(now: Instant) {
        clock = now
        send(.credentials(ufrag: agent.localCredentials.ufragText, password: agent.localCredentials.passwordText), now: now)
        if agent.configuration.lite { send(.lite, now: now) }
        agent.startGathering(now: now)
        if let relay { startRelay(relay, now: now) }
        drainEvents(now: now)
    }

    public func drainEvents(now: Instant) {
        clock = now
        if let turn { drainRelayEvents(turn, now: now) }
        while let e = agent.pollEvent() {
            log.append((now, e))
            switch e {
            case .localCandidate(let c): send(.candidate(c), now: now)
            case .gatheringComplete: endOfCandidatesPending = true
            case .selectedPair(_, let local, let remote, _):
                if let turn, turn.owns(local.base) { turn.bindChannel(peer: remote.address, now: now) }
            default: break
            }
        }
        if endOfCandidatesPending && (turn?.settled ?? true) {
            endOfCandidatesPending = false
            send(.endOfCandidates, now: now)
        }
    }

    public func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        guard !deaf else { return }
        clock = now
        bytes.withUnsafeBytes { packet in
            if let turn, to == turn.base, from == turn.server {
                receiveFromRelay(turn, packet, now: now)
            } else {
                deliver(packet, from: from, to: to, now: now)
            }
        }
        drainEvents(now: now)
    }

    /// STUN to the agent, anything else (RFC 7983) is media.
    func deliver(_ packet: UnsafeRawBufferPointer, from: TransportAddress, to: TransportAddress, now: Instant) {
        if agent.handle(packet: packet, from: from, to: to, now: now) == .notSTUN {
            mediaReceived.append(MediaDatagram(at: now, from: from, to: to, bytes: Array(packet)))
        }
    }

    public func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        while true {
            if let t = turn?.pollTransmit() { return t }
            guard let t = agent.pollTransmit() else { break }
            if let turn, turn.owns(t.source) {
                turn.send(t.bytes, to: t.destination, now: clock)
                continue
            }
            return (t.source, t.destination, Array(t.bytes))
        }
        return mediaOutbox.pop()
    }

    public func handleTimeout(now: Instant) {
        clock = now
        while let i = inbox.firstIndex(where: { $0.at <= now }) {
            let s = inbox.remove(at: i).signal
            switch s {
            case .credentials(let u, let p): agent.setRemoteCredentials(ufrag: u, password: p)
            case .candidate(let c):
                try? agent.addRemoteCandidate(c, now: now)
                turn?.permit(c.address, now: now)
                lastRemoteCandidateAt = now
            case .endOfCandidates: agent.setRemoteEndOfCandidates(now: now)
            case .lite: agent.remoteIsLite = true
            }
        }
        if let d = agent.nextDeadline, d <= now { agent.handleTimeout(now: now) }
        if let turn, let d = turn.client.nextDeadline, d <= now { turn.client.handleTimeout(now: now) }
        drainEvents(now: now)
    }

    public var nextDeadline: Instant? {
        var d = agent.nextDeadline
        for item in inbox where d == nil || item.at < d! { d = item.at }
        if let t = turn?.client.nextDeadline, d == nil || t < d! { d = t }
        return d
    }

    public var selected: (local: Candidate, remote: Candidate, nominated: Bool)? { agent.selectedPair() }

    /// "srflx/prflx": the selected pair's local and remote candidate types.
    public var selectedTypes: String {
        guard let s = selected else { return "-" }
        return "\(s.local.type.sdpName)/\(s.remote.type.sdpName)"
    }

    public func firstTime(of predicate: (Event) -> Bool) -> Instant? { log.first { predicate($0.event) }?.at }

    // MARK: Media

    /// Sends one media datagram over the selected pair, through the relay when its local
    /// candidate is the relayed one. False when there is no pair yet (or the relay refused).
    @discardableResult
    public func sendMedia(_ bytes: [UInt8], now: Instant) -> Bool {
        guard let pair = agent.selectedPair() else { return false }
        clock = now
        if let turn, turn.owns(pair.local.base) {
            return bytes.withUnsafeBytes { turn.send($0, to: pair.remote.address, now: now) }
        }
        mediaOutbox.append(from: pair.local.base, to: pair.remote.address, bytes: bytes)
        return true
    }
}
