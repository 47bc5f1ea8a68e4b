import Common
import ICE

/// The agent type the simulator drives: randomness from a seed, so runs are reproducible.
public typealias SimulatedAgent = Agent<SeededRandom>

/// An ICE agent living on a simulated host, with an in-simulation signaling channel to its
/// peer: local candidates, end-of-candidates and credentials reach the peer after
/// `signalingDelay` on the virtual clock (trickle ICE, RFC 8838).
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

    /// Signals credentials (and ICE-lite) and starts gathering.
    public func start(now: Instant) {
        send(.credentials(ufrag: agent.localCredentials.ufragText, password: agent.localCredentials.passwordText), now: now)
        if agent.configuration.lite { send(.lite, now: now) }
        agent.startGathering(now: now)
        drainEvents(now: now)
    }

    public func drainEvents(now: Instant) {
        while let e = agent.pollEvent() {
            log.append((now, e))
            switch e {
            case .localCandidate(let c): send(.candidate(c), now: now)
            case .gatheringComplete: send(.endOfCandidates, now: now)
            default: break
            }
        }
    }

    public func receive(_ bytes: [UInt8], from: TransportAddress, to: TransportAddress, now: Instant) {
        guard !deaf else { return }
        bytes.withUnsafeBytes { _ = agent.handle(packet: $0, from: from, to: to, now: now) }
        drainEvents(now: now)
    }

    public func pollTransmit() -> (from: TransportAddress, to: TransportAddress, bytes: [UInt8])? {
        agent.pollTransmit().map { ($0.source, $0.destination, Array($0.bytes)) }
    }

    public func handleTimeout(now: Instant) {
        while let i = inbox.firstIndex(where: { $0.at <= now }) {
            let s = inbox.remove(at: i).signal
            switch s {
            case .credentials(let u, let p): agent.setRemoteCredentials(ufrag: u, password: p)
            case .candidate(let c):
                try? agent.addRemoteCandidate(c, now: now)
                lastRemoteCandidateAt = now
            case .endOfCandidates: agent.setRemoteEndOfCandidates(now: now)
            case .lite: agent.remoteIsLite = true
            }
        }
        if let d = agent.nextDeadline, d <= now { agent.handleTimeout(now: now) }
        drainEvents(now: now)
    }

    public var nextDeadline: Instant? {
        var d = agent.nextDeadline
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
}

/// Two agents on a simulated network with a STUN server, wired for trickle signaling.
public struct Scenario {
    static let stunAddress = TransportAddress("198.51.100.1:3478")!
    public let network: Network
    public let left: AgentEndpoint
    public let right: AgentEndpoint
    public let leftHost: Host
    public let rightHost: Host

    public init(left lp: NATPlacement, right rp: NATPlacement, seed: UInt64 = 1,
                leftRole: Role = .controlling, rightRole: Role = .controlled,
                configure: (inout AgentConfiguration) -> Void = { _ in }) {
        network = Network(seed: seed)
        let stunHost = network.addHost(name: "stun", addresses: [Scenario.stunAddress.ip])
        network.attach(StunServerEndpoint(address: Scenario.stunAddress), to: stunHost, addresses: [Scenario.stunAddress])
        leftHost = network.addSite(name: "L", placement: lp, publicAddress: IPAddress("203.0.113.10")!,
                                   privateAddress: IPAddress("10.0.1.2")!)
        rightHost = network.addSite(name: "R", placement: rp, publicAddress: IPAddress("203.0.113.20")!,
                                    privateAddress: IPAddress("10.0.2.2")!)
        func make(_ seed: UInt64, _ role: Role, _ host: Host, _ name: String) -> AgentEndpoint {
            var config = AgentConfiguration()
            config.role = role
            config.stunServers = [Scenario.stunAddress]
            configure(&config)
            let agent = SimulatedAgent(configuration: config, random: SeededRandom(seed: seed))
            _ = try? agent.addHostCandidate(base: host.transportAddress(port: 5000))
            return AgentEndpoint(name, agent)
        }
        left = make(seed &* 2 &+ 1, leftRole, leftHost, "L")
        right = make(seed &* 2 &+ 2, rightRole, rightHost, "R")
        left.peer = right
        right.peer = left
        network.attach(left, to: leftHost)
        network.attach(right, to: rightHost)
    }

    public func start() {
        left.start(now: network.now)
        right.start(now: network.now)
    }

    public var bothCompleted: Bool { left.agent.state == .completed && right.agent.state == .completed }
    public var bothFailed: Bool { left.agent.state == .failed && right.agent.state == .failed }

    /// Runs until both complete (or `timeout`); returns whether they did.
    public func connect(timeout: Interval = .seconds(15)) -> Bool {
        network.runUntil(timeout: timeout) { bothCompleted }
    }
}
