import Common
import ICE

/// Two agents on a simulated network with a STUN server, wired for trickle signaling; with
/// `relay: true`, also a TURN server that both agents allocate a relayed candidate on.
public struct Scenario {
    static let stunAddress = TransportAddress("198.51.100.1:3478")!
    public static let turnAddress = TransportAddress("198.51.100.2:3478")!
    /// The long-term credentials each side uses on the TURN server.
    public static let leftTURNUser = TurnCredential(username: "left", password: "left-secret")
    public static let rightTURNUser = TurnCredential(username: "right", password: "right-secret")

    public let network: Network
    public let left: AgentEndpoint
    public let right: AgentEndpoint
    public let leftHost: Host
    public let rightHost: Host
    public let turnServer: TurnServerEndpoint?

    public init(left lp: NATPlacement, right rp: NATPlacement, seed: UInt64 = 1,
                leftRole: Role = .controlling, rightRole: Role = .controlled, relay: Bool = false,
                configure: (inout AgentConfiguration) -> Void = { _ in }) {
        network = Network(seed: seed)
        let stunHost = network.addHost(name: "stun", addresses: [Scenario.stunAddress.ip])
        network.attach(StunServerEndpoint(address: Scenario.stunAddress), to: stunHost, addresses: [Scenario.stunAddress])
        if relay {
            let server = TurnServerEndpoint(address: Scenario.turnAddress,
                                            credentials: [Scenario.leftTURNUser, Scenario.rightTURNUser])
            // Without `addresses`: relayed transport addresses are ports of this host.
            network.attach(server, to: network.addHost(name: "turn", addresses: [Scenario.turnAddress.ip]))
            turnServer = server
        } else {
            turnServer = nil
        }
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
        if relay {
            for (side, user) in [(left, Scenario.leftTURNUser), (right, Scenario.rightTURNUser)] {
                side.relay = RelayConfiguration(server: Scenario.turnAddress, username: user.username, password: user.password)
            }
        }
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

    /// Runs until both complete (or `timeout`); returns whether they did.
    public func connect(timeout: Interval = .seconds(15)) -> Bool {
        network.runUntil(timeout: timeout) { bothCompleted }
    }
}
