import Common
import Daemon
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

    /// Where the peer exchange is.
    enum Stage {
        case connecting, allocating, holding(until: Instant), permission, indicationEcho, channel, channelEcho, closing, done
    }

    func run() -> Int32 {
        let start = monotonicNow()
        var config = TURNConfiguration()
        config.transport = uri.transport
        config.addressFamily = family
        config.requestedLifetime = lifetime
        config.expectedRealm = realm
        config.software = "ice-agent " + version
        config.rto = rto
        let client = TURNClient(server: server, username: username, password: password, configuration: config,
                                random: SystemRandom())

        // UDP: a socket of our own. TCP/TLS: one connection, opened before the Allocate.
        var socket: UDPSocket? = nil
        var connection: TURNStreamConnection? = nil
        if uri.transport == .udp {
            guard let s = clientSocket(bind: bind, towards: server) else { return 1 }
            socket = s
        } else {
            var tls: TLSClientConfiguration? = nil
            if uri.transport == .tls {
                do throws(TLSError) {
                    tls = try TLSClientConfiguration(caFile: caFile ?? TLSClientConfiguration.systemCAFile)
                } catch {
                    printError("ice-agent: " + error.description)
                    return 1
                }
            }
            let connectTimeout = timeout < TURNStreamConnection.defaultTimeout ? timeout : TURNStreamConnection.defaultTimeout
            do throws(RelayTransportError) {
                connection = try TURNStreamConnection(server: server, transport: uri.transport, tls: tls, serverName: uri.host,
                                                      now: start, timeout: connectTimeout)
            } catch {
                printError("ice-agent: turn allocate failed: " + error.description)
                return 1
            }
        }

        var random = SystemRandom()
        // 37 bytes: not a multiple of 4, so ChannelData over TCP/TLS needs its padding both ways.
        let payload = Array(("ice-agent turn echo " + hexString(random.next()) + ".").utf8)
        let giveUp = start + timeout
        var stage = connection == nil ? Stage.allocating : Stage.connecting
        var status: Int32 = 0
        var buffer = [UInt8](repeating: 0, count: 65536)

        func sendPayload(_ now: Instant) -> Bool {
            guard let peer else { return false }
            let error: TURNError? = payload.withUnsafeBytes { raw in
                do throws(TURNError) {
                    try client.send(raw, to: peer, now: now)
                    return nil
                } catch { return error }
            }
            if let error {
                printError("ice-agent: sending through the relay failed: " + "\(error.name)")
                return false
            }
            return true
        }

        func closeWith(_ code: Int32, _ now: Instant) {
            if code != 0 { status = code }
            stage = .closing
            client.close(now: now)
            if client.state == .closed { stage = .done }
        }

        func usePeer(_ now: Instant) {
            guard let peer else {
                closeWith(0, now)
                return
            }
            do throws(TURNError) {
                try client.createPermission(peer: peer, now: now)
                stage = .permission
            } catch {
                printError("ice-agent: CreatePermission: " + "\(error.name)")
                closeWith(1, now)
            }
        }

        /// A datagram or stream frame from the server: the echo exchange moves on.
        func received(_ packet: UnsafeRawBufferPointer, from: TransportAddress, _ now: Instant) {
            let viaChannel = client.counters.channelDataReceived
            guard case .data(let source, let bytes) = client.handle(packet: packet, from: from, now: now), source == peer,
                  payload.withUnsafeBytes({ bytes.bytesEqual($0) })
            else { return }
            switch stage {
            case .indicationEcho:
                printError("echo via send/data indication: ok")
                do throws(TURNError) {
                    try client.bindChannel(peer: peer!, now: now)
                    stage = .channel
                } catch {
                    printError("ice-agent: ChannelBind: " + "\(error.name)")
                    closeWith(1, now)
                }
            case .channelEcho where client.counters.channelDataReceived > viaChannel:
                printError("echo via channel: ok")
                print("echo: ok")
                closeWith(0, now)
            default:
                break
            }
        }

        if connection == nil {
            do throws(TURNError) {
                try client.start(now: start)
            } catch {
                printError("ice-agent: " + "\(error.name)")
                return 1
            }
        }

        while true {
            let now = monotonicNow()
            if let connection {
                while let e = connection.pollEvent() {
                    switch e {
                    case .opened:
                        printError("connected: " + "\(uri.transport.name)" + " to " + server.description)
                        stage = .allocating
                        do throws(TURNError) { try client.start(now: now) } catch {
                            printError("ice-agent: " + "\(error.name)")
                            return 1
                        }
                    case .failed(let error):
                        if case .closing = stage {
                            // The server may close first once the allocation is deleted.
                            client.connectionLost(now: now)
                        } else {
                            printError("ice-agent: turn allocate failed: " + error.description)
                            return 1
                        }
                    }
                }
            }
            while let e = client.pollEvent() {
                switch e {
                case .allocated(let relayed, let mapped, let lifetime):
                    print("relayed: " + relayed.description)
                    if let mapped { print("mapped: " + mapped.description) }
                    printError("lifetime: \(lifetime.milliseconds / 1000) s")
                    if hold.nanoseconds > 0 {
                        stage = .holding(until: now + hold)
                    } else {
                        usePeer(now)
                    }
                case .refreshed(let lifetime):
                    printError("refreshed: \(lifetime.milliseconds / 1000) s")
                case .redirected(let to):
                    printError("redirected to " + to.description)
                    if connection != nil {
                        printError("ice-agent: turn allocate failed: a redirect over " + "\(uri.transport.name)" + " needs a new connection; use the alternate server's URI")
                        return 1
                    }
                case .retrying(let f, let after):
                    printError("ice-agent: " + f.description + ", retrying in \(after.milliseconds) ms")
                case .failed(let f):
                    printError("ice-agent: turn allocate failed: " + f.description)
                    return 1
                case .permissionCreated(let ip):
                    printError("permission: " + ip.description)
                    if case .permission = stage {
                        stage = .indicationEcho
                        if !sendPayload(now) { closeWith(1, now) }
                    }
                case .permissionFailed(let ip, let f):
                    printError("ice-agent: permission for " + ip.description + " failed: " + f.description)
                    closeWith(1, now)
                case .channelBound(let p, let number):
                    printError("channel: " + hexUInt16(number) + " -> " + p.description)
                    if case .channel = stage {
                        stage = .channelEcho
                        if !sendPayload(now) { closeWith(1, now) }
                    }
                case .channelBindFailed(let p, let f):
                    printError("ice-agent: channel to " + p.description + " failed: " + f.description)
                    closeWith(1, now)
                case .deallocated:
                    printError("deallocated")
                    stage = .done
                case .tableFull(let table):
                    printError("ice-agent: table full: " + "\(table.name)")
                }
            }
            if case .done = stage { break }
            if case .holding(let until) = stage, now >= until { usePeer(now) }
            // Events above may have queued requests or data: send before waiting.
            while let t = client.pollTransmit() {
                if let socket {
                    do throws(SocketError) {
                        try socket.send(t.bytes, to: t.destination)
                    } catch {
                        // ICMP errors (port unreachable) surface here; retransmissions cover it.
                        printError("ice-agent: " + error.description)
                    }
                } else {
                    connection?.send(t.bytes)
                }
            }
            if now >= giveUp {
                let what = connection.map { $0.phase == .connecting ? "connecting" : ($0.phase == .handshaking ? "TLS handshake" : "state " + "\(client.state.name)") }
                printError("ice-agent: timed out (" + (what ?? "state " + "\(client.state.name)") + ")")
                return 1
            }

            var wake = giveUp
            if let d = client.nextDeadline, d < wake { wake = d }
            if let d = connection?.deadline, d < wake { wake = d }
            if case .holding(let until) = stage, until < wake { wake = until }
            if wake <= now {
                client.handleTimeout(now: now)
                connection?.handleTimeout(now: now)
                continue
            }
            let waitMs = Int32(max(1, min(1000, (wake - now).milliseconds + 1)))
            if let connection {
                let ready: (readable: Bool, writable: Bool)
                do throws(SocketError) {
                    ready = try pollDescriptor(connection.descriptor, write: connection.wantsWrite, timeoutMilliseconds: waitMs)
                } catch {
                    printError("ice-agent: " + error.description)
                    return 1
                }
                let later = monotonicNow()
                if ready.writable { connection.writable(now: later) }
                if ready.readable {
                    let from = client.server
                    connection.readable(now: later) { frame in received(frame, from: from, later) }
                }
                connection.handleTimeout(now: later)
                if let d = client.nextDeadline, later >= d { client.handleTimeout(now: later) }
                continue
            }
            guard let socket else { return 1 }
            let outcome: Result<(count: Int, from: TransportAddress)?, SocketError> = buffer.withUnsafeMutableBytes { raw in
                do throws(SocketError) {
                    return .success(try socket.receive(into: raw, timeoutMilliseconds: waitMs))
                } catch { return .failure(error) }
            }
            guard case .success(let datagram) = outcome else {
                if case .failure(let error) = outcome { printError("ice-agent: " + error.description) }
                return 1
            }
            let later = monotonicNow()
            if let datagram {
                buffer.withUnsafeBytes { raw in
                    received(UnsafeRawBufferPointer(rebasing: raw[0..<datagram.count]), from: datagram.from, later)
                }
            }
            if let d = client.nextDeadline, later >= d { client.handleTimeout(now: later) }
        }
        connection?.close()
        let c = client.counters
        printError("stale-nonce-retries: \(c.staleNonceRetries) retransmits: \(c.retransmits) dropped: \(c.malformed + c.unauthenticated + c.unknownTransaction)")
        return status
    }
}
