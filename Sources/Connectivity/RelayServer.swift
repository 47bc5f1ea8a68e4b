import Common
import TURN

/// A TURN server a `Connection` allocates a relayed candidate on (RFC 8656), with its
/// long-term credential and how it is reached: UDP from a host base, or TCP or TLS over a
/// stream connection the owner opens (RFC 7065 `turn:...?transport=tcp`, `turns:`).
public struct RelayServer {
    public var server: TransportAddress
    public var username: String
    public var password: String
    public var transport: TURNTransport
    /// The URI's host: for TLS, the name the server certificate must match.
    public var serverName: String
    /// Family of the relayed address (REQUESTED-ADDRESS-FAMILY).
    public var family: TURNAddressFamily
    /// For logs and the status report, e.g. "turns:turn.example.org:5349".
    public var label: String
    /// RFC 8445 §5.1.2.1 local preference of the relayed candidate.
    public var localPreference: UInt16
    /// Timing, lifetime and the rest of the client's settings; its transport and address
    /// family are taken from the fields above.
    public var client: TURNConfiguration

    public init(server: TransportAddress, username: String, password: String, transport: TURNTransport = .udp,
                serverName: String? = nil, family: TURNAddressFamily? = nil, label: String? = nil,
                index: Int = 0, client: TURNConfiguration = TURNConfiguration()) {
        self.server = server
        self.username = username
        self.password = password
        self.transport = transport
        self.serverName = serverName ?? server.ip.description
        let family = family ?? (server.ip.isIPv4 ? .ipv4 : .ipv6)
        self.family = family
        self.label = label ?? ((transport == .tls ? "turns:" : "turn:") + server.description
            + (transport == .tcp ? "?transport=tcp" : ""))
        localPreference = RelayServer.localPreference(transport: transport, family: family, index: index)
        self.client = client
    }

    /// RFC 8445 §5.1.2.1 local preference of a relayed candidate: UDP over TCP over TLS (each
    /// extra hop of framing and head-of-line blocking costs media), IPv6 over IPv4 as for host
    /// candidates, then the order the servers were configured in.
    public static func localPreference(transport: TURNTransport, family: TURNAddressFamily, index: Int) -> UInt16 {
        let rank: UInt16
        switch transport {
        case .udp: rank = 3
        case .tcp: rank = 2
        case .tls: rank = 1
        }
        return rank << 13 | (family == .ipv6 ? 0x1000 : 0) | (0x0FFF - UInt16(min(max(index, 0), 0x0FFF)))
    }

    func makeClient<R: RandomSource>(server: TransportAddress, random: R) -> TURNClient<R> {
        var c = client
        c.transport = transport
        c.addressFamily = family
        // One retry policy for a relay: the connection's (`RelayRetry`, a fresh client after a
        // backoff), not a second one inside the client.
        c.allocateAttempts = 1
        return TURNClient(server: server, username: username, password: password, configuration: c, random: random)
    }
}

/// Backoff of a relay that failed: a fresh allocation after 2 s, doubling up to a minute.
public enum RelayRetry {
    public static let first = Interval.seconds(2)
    public static let maximum = Interval.seconds(60)

    public static func delay(afterFailures n: Int) -> Interval {
        var d = first
        var k = 1
        while k < n && d < maximum {
            d = d * 2
            k += 1
        }
        return d < maximum ? d : maximum
    }
}

extension TURNFailure {
    /// Failures a retry cannot fix: the configuration (credentials, realm, what the server
    /// offers) must change first.
    public var isConfigurationError: Bool {
        switch self {
        case .wrongCredentials, .forbidden, .realmMismatch, .unsupportedPasswordAlgorithm, .unsupportedTransport,
             .addressFamilyNotSupported, .tooManyRedirects:
            return true
        default:
            return false
        }
    }
}
