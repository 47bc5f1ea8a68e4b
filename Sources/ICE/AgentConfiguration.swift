import Common

/// RFC 8445 §6.1.1 roles.
public enum Role: UInt8, Sendable {
    case controlling, controlled
    public var name: StaticString { self == .controlling ? "controlling" : "controlled" }
}

/// Table sizes, chosen per agent and allocated once. The defaults fit a camera with IPv4 and
/// IPv6 on two interfaces, two STUN and two TURN servers and two components: 2 x 2 interfaces
/// x 2 components host + srflx + relay + prflx gives ~40 local; a browser peer can send as many.
public struct Capacities: Sendable {
    public var localCandidates = 48
    public var remoteCandidates = 64
    public var pairs = 256
    public var transactions = 64
    public var stunServers = 4
    public var transmitQueue = 32
    public var events = 64
    public init() {}
}

public struct AgentConfiguration: Sendable {
    public var role: Role = .controlling
    /// 1 with rtcp-mux, 2 for separate RTP and RTCP.
    public var components: UInt8 = 1
    /// STUN servers for server-reflexive candidates.
    public var stunServers: [TransportAddress] = []
    public var capacities = Capacities()
    /// RFC 8445 §14.2 pacing; 20 ms is allowed for RTP-only sessions.
    public var ta = Timing.ta
    /// ICE-lite (RFC 8445 §2.5): host candidates only, never checks, always controlled.
    public var lite = false
    /// RFC 7675 consent freshness on the selected pair; when off, Binding indications keep
    /// NAT bindings alive instead (RFC 8445 §11).
    public var consentFreshness = true
    public var nominationDelay = Timing.nominationDelay
    public var remoteCandidateWait = Timing.remoteCandidateWait
    /// Remote loopback candidates are paired only when this is set (a remote 127.0.0.1 names
    /// this host: a hostile peer could aim checks at local services).
    public var allowLoopback = false
    /// SOFTWARE in responses; empty for none.
    public var software: StaticString = "ice-agent"

    public init() {}
}
