import Common
import Connectivity
import Runtime
import TURN

/// A TURN server as the command line and config file name it: the sans-IO `RelayServer`
/// plus what only the I/O shell needs (the trusted CAs of a `turns:` server).
public struct TURNServerConfig {
    public var server: TransportAddress
    public var username: String
    public var password: String
    public var transport: TURNTransport
    /// The URI's host: TLS's SNI and the name the server certificate must match.
    public var serverName: String
    /// Trusted CAs for `.tls` (shared by every connection; required for `.tls`).
    public var tls: TLSClientConfiguration?
    /// Family of the relayed address (REQUESTED-ADDRESS-FAMILY): by default the server's.
    public var family: TURNAddressFamily
    /// For logs, e.g. "turns:turn.example.org:5349".
    public var label: String

    public init(server: TransportAddress, username: String, password: String, transport: TURNTransport = .udp,
                serverName: String? = nil, tls: TLSClientConfiguration? = nil, family: TURNAddressFamily? = nil,
                label: String? = nil) {
        let description = RelayServer(server: server, username: username, password: password, transport: transport,
                                      serverName: serverName, family: family, label: label)
        self.server = server
        self.username = username
        self.password = password
        self.transport = transport
        self.serverName = description.serverName
        self.tls = tls
        self.family = description.family
        self.label = description.label
    }

    /// The connection's view of this server, the `index`-th configured (RFC 8445 §5.1.2.1:
    /// earlier servers get the higher local preference).
    public func relayServer(index: Int) -> RelayServer {
        RelayServer(server: server, username: username, password: password, transport: transport, serverName: serverName,
                    family: family, label: label, index: index)
    }
}
