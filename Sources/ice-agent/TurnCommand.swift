import Common
import Connectivity
import Daemon
import ICE
import Runtime
import STUN
import TURN

/// `ice-agent turn allocate`: the TURN client on a real UDP socket or TCP/TLS connection.
struct TurnCommand {
    var uri = TURNServerURI(scheme: .turn, host: "", port: 0, transport: .udp, hostIsIPLiteral: false)
    var server = TransportAddress(.v4Any, 0)
    var username = ""
    var password = ""
    var family = TURNAddressFamily.ipv4
    var caFile: String? = nil
    var peer: TransportAddress? = nil
    var realm: String? = nil
    var bind: TransportAddress? = nil
    var lifetime: UInt32? = nil
    var hold = Interval.seconds(0)
    var timeout = Interval.seconds(10)
    var rto = TURNTiming.rto
    var serverText: String? = nil
    var user: String? = nil
    var familyChoice: TURNAddressFamily? = nil

    static let spec = CommandSpec<TurnCommand>(
        name: "turn allocate", synopsis: "--server URI|HOST:PORT --user USER:PASSWORD [OPTION]...",
        about: """
            Allocates a relayed address on a TURN server (RFC 8656) and prints `relayed: IP:PORT` and
            `mapped: IP:PORT`. With --peer: creates a permission, sends a datagram through the relay as a
            Send indication, binds a channel, sends one as ChannelData, and expects the peer to echo both
            (`echo: ok`). Always deallocates (Refresh LIFETIME 0) before exiting. Exit status 1 on any failure.
            """,
        options: [
            // RFC 7065 URIs; turns: is TLS over TCP, port 5349 by default, the certificate must match HOST.
            Option("--server", .value("URI|HOST:PORT"),
                   "turn:HOST[:PORT][?transport=tcp], turns:HOST[:PORT] (TLS) or HOST:PORT (UDP); IPv6 in brackets") {
                c, v throws(UsageError) in c.serverText = v
            },
            Option("--user", .value("USER:PASSWORD"), "the long-term credential") { c, v throws(UsageError) in c.user = v },
            Option("--peer", .value("ADDR:PORT"), "an echo peer to exchange datagrams with through the relay") { c, v throws(UsageError) in
                c.peer = try parseAddress(v)
            },
            Option("--realm", .value("R"), "fail unless the server's realm is R") { c, v throws(UsageError) in c.realm = v },
            Option("--ca", .value("FILE"), "turns: the trusted CAs (default: the system's)") { c, v throws(UsageError) in c.caFile = v },
            Option("--family", .value("4|6"), "the relayed address's family (default: the server's)") { c, v throws(UsageError) in
                switch v {
                case "4", "ipv4": c.familyChoice = .ipv4
                case "6", "ipv6": c.familyChoice = .ipv6
                default: throw UsageError("--family takes 4 or 6")
                }
            },
            Option("--bind", .value("ADDR:PORT"), "UDP only: the local address") { c, v throws(UsageError) in c.bind = try parseAddress(v) },
            Option("--lifetime", .value("S"), "the requested allocation lifetime") { c, v throws(UsageError) in
                c.lifetime = try number(v, in: 1...UInt32.max, "--lifetime takes seconds > 0")
            },
            Option("--hold", .value("S"), "keep the allocation S seconds before using it (0..3600)") { c, v throws(UsageError) in
                c.hold = .seconds(try number(v, in: 0...3600, "--hold takes 0..3600 s"))
            },
            Option("--timeout", .value("S"), "give up after S seconds (1..3600, default 10)") { c, v throws(UsageError) in
                c.timeout = .seconds(try number(v, in: 1...3600, "--timeout takes 1..3600 s"))
            },
            Option("--rto", .value("MS"), "UDP only: the first retransmission timeout (1..60000)") { c, v throws(UsageError) in
                c.rto = .milliseconds(try number(v, in: 1...60_000, "--rto takes 1..60000 ms"))
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try TurnCommand.spec.parse(arguments, into: &self)
        guard let serverText else { throw UsageError("turn allocate needs --server URI or HOST:PORT") }
        uri = try TURNURL.parse(serverText)
        guard let s = resolve(hostAndPort: uri.hostAndPort) else { throw UsageError("cannot resolve " + uri.hostAndPort) }
        server = s
        guard let user, let colon = user.firstIndex(of: ":") else { throw UsageError("turn allocate needs --user USER:PASSWORD") }
        username = String(user[..<colon])
        password = String(user[user.index(after: colon)...])
        family = familyChoice ?? (server.ip.isIPv4 ? .ipv4 : .ipv6)
        if let peer, peer.ip.isIPv4 != (family == .ipv4) { throw UsageError("--peer must have the relayed address's family") }
        if uri.transport.isStream && bind != nil { throw UsageError("--bind is for UDP servers") }
        if uri.transport != .tls && caFile != nil { throw UsageError("--ca is for turns: servers") }
    }

    func run() -> Int32 {
        guard let loop = openEventLoop() else { return 1 }
        var client = TURNConfiguration()
        client.requestedLifetime = lifetime
        client.expectedRealm = realm
        client.software = "ice-agent " + version
        client.rto = rto
        let relay = RelayServer(server: server, username: username, password: password, transport: uri.transport,
                                serverName: uri.host, family: family, client: client)
        var tls: TLSClientConfiguration? = nil
        if uri.transport == .tls {
            do throws(TLSError) {
                tls = try TLSClientConfiguration(caFile: caFile ?? TLSClientConfiguration.systemCAFile)
            } catch {
                printError("ice-agent: " + error.description)
                return 1
            }
        }
        // UDP: a socket of our own. TCP/TLS: the connection the relay asks for.
        var socket: UDPSocket? = nil
        if uri.transport == .udp {
            guard let s = clientSocket(bind: bind, towards: server) else { return 1 }
            socket = s
        }
        let allocation = TurnAllocation(command: self, relay: relay, tls: tls, socket: socket, loop: loop)
        return allocation.run()
    }
}
