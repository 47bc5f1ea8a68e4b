import Common
import Connectivity
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
/// `signalingDelay` on the virtual clock (trickle ICE, RFC 8838). It drives the same
/// `Connection` as the daemon: with `relay` set before `start`, that connection also
/// allocates a relayed candidate on the TURN server.
public final class AgentEndpoint: SimulatedEndpoint {
    public enum Signal {
        case credentials(ufrag: String, password: String)
        case candidate(Candidate)
        case endOfCandidates
        case lite
    }

    let name: String
    public let connection: Connection<SeededRandom>
    public var agent: SimulatedAgent { connection.agent }
    public var peer: AgentEndpoint?
    public var signalingDelay = Interval.milliseconds(50)
    /// While true, trickled candidates and end-of-candidates are held back (delivered when
    /// released); credentials, part of the offer/answer itself, still go.
    public var holdSignaling = false
    var held: [Signal] = []
    var inbox: [(at: Instant, signal: Signal)] = []
    public private(set) var log: [(at: Instant, event: Event)] = []
    /// Drop everything received (a peer that never answers).
    public var deaf = false
    /// When the last trickled candidate from the peer was handed to the agent (nil before any).
    public private(set) var lastRemoteCandidateAt: Instant?

    /// The TURN server to allocate a relayed candidate on; read by `start`.
    public var relay: RelayConfiguration?
    /// Media sent on a direct selected pair, waiting for the network to poll it.
    var mediaOutbox = Outbox()
    public private(set) var mediaReceived: [MediaDatagram] = []
    /// Media from a source no pair vouches for, dropped.
    public private(set) var mediaDropped = 0

    public init(_ name: String, _ agent: SimulatedAgent) {
        self.name = name
        // Seeded from the agent's own seeded draws, so a scenario's seed fixes everything.
        connection = Connection(agent: agent, random: SeededRandom(seed: agent.tieBreaker))
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
        send(.credentials(ufrag: agent.localCredentials.ufragText, password: agent.localCredentials.passwordText), now: now)
        if agent.configuration.lite { send(.lite, now: now) }
        if let relay { addRelay(relay) }
        connection.start(now: now)
        drainEvents(now: now)
    }

    public func drainEvents(now: Instant) {
        while let e = connection.pollEvent() {
            switch e {
            case .localCandidate(let c):
                log.append((now, .localCandidate(c)))
                send(.candidate(c), now: now)
            case .endOfCandidates:
                log.append((now, .gatheringComplete))
                send(.endOfCandidates, now: now)
            case .stateChanged(let s): log.append((now, .stateChanged(s)))
            case .selectedPair(let component, let local, let remote, let nominated):
                log.append((now, .selectedPair(component: component, local: local, remote: remote, nominated: nominated)))
            case .roleChanged(let r): log.append((now, .roleChanged(r)))
            case .tableFull(let t): log.append((now, .tableFull(t)))
            case .mappingChanged(let c, let was, let mapped): log.append((now, .mappingChanged(component: c, was: was, now: mapped)))
            default: break
            }
        }
    }

    public func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        guard !deaf else { return }
        bytes.withUnsafeBytes { packet in
            switch connection.handle(datagram: packet, from: from, to: to, now: now) {
            case .media(let source, let local, let range):
                mediaReceived.append(MediaDatagram(at: now, from: source, to: local, bytes: Array(packet[range])))
            case .unknownSource:
                mediaDropped += 1
            case .consumed:
                break
            }
        }
        drainEvents(now: now)
    }

    public func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        while let t = connection.pollTransmit() {
            guard case .socket(let local) = t.route else { continue }  // no stream relays here
            return (local, t.destination, Array(t.bytes))
        }
        return mediaOutbox.pop()
    }

    public func handleTimeout(now: Instant) {
        while let i = inbox.firstIndex(where: { $0.at <= now }) {
            let s = inbox.remove(at: i).signal
            switch s {
            case .credentials(let u, let p): agent.setRemoteCredentials(ufrag: u, password: p)
            case .candidate(let c):
                try? connection.addRemoteCandidate(c, now: now)
                lastRemoteCandidateAt = now
            case .endOfCandidates: connection.setRemoteEndOfCandidates(now: now)
            case .lite: agent.remoteIsLite = true
            }
        }
        if let d = connection.nextDeadline, d <= now { connection.handleTimeout(now: now) }
        drainEvents(now: now)
    }

    public var nextDeadline: Instant? {
        var d = connection.nextDeadline
        for item in inbox where d == nil || item.at < d! { d = item.at }
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
        bytes.withUnsafeBytes { raw in
            switch connection.sendMedia(raw, now: now) {
            case .direct(let source, let destination):
                mediaOutbox.append(from: source, to: destination, bytes: bytes)
                return true
            case .relayed: return true
            case .noPair, .refused: return false
            }
        }
    }
}
