import Board
import Common
import Daemon
import DTLS
import HTTP
import ICE
import RTP
import Runtime
import SDP
import TURN

/// `ice-agent call` (the doorbell: controlling, offers) and `ice-agent answer` (home:
/// controlled), here with `--signal stdio`.
struct CallCommand {
    var role: Role
    var stunServers: [TransportAddress] = []
    var rtpIn: TransportAddress?
    var rtpOut: TransportAddress?
    var filter = InterfaceFilter()
    var duration: Int64?
    var signal: String? = nil
    var url: HTTPURL? = nil
    var listen: TransportAddress? = nil

    var media = MediaConfig()
    var turnURLs: [String] = []
    var turnUser: (String, String)? = nil
    var turnCA: String? = nil
    /// The trusted CAs for turns: servers, loaded once when one is configured.
    var turnTLS: TLSClientConfiguration? = nil
    var relayOnly = false
    /// RFC 5780 discovery against the first --stun server during a call, for the status report.
    var natType = true
    /// `--signal-ca` (call https://): the trusted CAs for the signaling server, loaded once.
    var signalCA: String? = nil
    var signalTLS: TLSClientConfiguration? = nil
    /// `--tls-cert`/`--tls-key` (answer --listen): serve HTTPS.
    var tlsCert: String? = nil
    var tlsKey: String? = nil
    var serverTLS: TLSServerConfiguration? = nil
    var boardPath: String? = nil
    var pcapPath: String? = nil
    var pcapMaxBytes = PcapWriter.defaultMaxBytes
    var statusSocket: String? = nil
    var onButton = false
    var callSeconds: Int64 = 120
    /// `--token-file`: the bearer token `call` sends and `answer --listen` requires.
    var token: BearerToken? = nil
    /// `--max-session-seconds` (answer --listen): the longest call; 0 for none.
    var maxSessionSeconds: Int64 = 3600
    /// `--gather-wait` (answer --listen): how long the answer waits for gathering.
    var gatherWaitMilliseconds: Int64 = 1000
    /// `--setup-seconds` (answer --listen): a session not connected by then ends.
    var setupSeconds: Int64 = 30
    /// `--allow-origin` (answer --listen): web origins allowed by CORS.
    var allowedOrigins: [String] = []
    /// `--identity`: the DTLS certificate and key file (nil: `defaultIdentityPath()`).
    var identityPath: String? = nil

    init(role: Role, arguments: [String]) throws(UsageError) {
        self.role = role
        try CallCommand.spec(role: role).parse(arguments, into: &self)
        if let signal, signal != "stdio" { throw UsageError("--signal: stdio is the only transport name") }
        let modes = (signal != nil ? 1 : 0) + (url != nil ? 1 : 0) + (listen != nil ? 1 : 0)
        guard modes == 1 else {
            throw UsageError(role == .controlling ? "call needs a URL or --signal stdio" : "answer needs --listen ADDR:PORT or --signal stdio")
        }
        if listen != nil && role == .controlling { throw UsageError("--listen is for answer") }
        if !allowedOrigins.isEmpty && listen == nil { throw UsageError("--allow-origin is for answer --listen") }
        if onButton && (role != .controlling || url == nil) {
            throw UsageError("--on-button is for call with an http:// URL or an https:// one (each press places a call)")
        }
        if !turnURLs.isEmpty && turnUser == nil { throw UsageError("--turn needs --turn-user USER:PASSWORD or --turn-user-file FILE") }
        if relayOnly && turnURLs.isEmpty { throw UsageError("--relay-only needs a --turn server") }
        turnTLS = try TURNURL.validate(turnURLs, caFile: turnCA)
        try loadSignalingTLS()
        if let boardPath {
            // A wrong board file is a configuration error (exit 2); a missing chip is not.
            do throws(BoardFileError) { _ = try BoardDefinition.load(path: boardPath) } catch {
                throw UsageError("board file " + boardPath + ": " + error.description)
            }
        }
        prefixPayloadType()
    }

    /// Loads the signaling's TLS files at start-up, so a bad one is a configuration error
    /// (exit 2), not a failure at the first call.
    mutating func loadSignalingTLS() throws(UsageError) {
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else { throw UsageError("--tls-cert and --tls-key go together") }
            guard listen != nil else { throw UsageError("--tls-cert/--tls-key are for answer --listen") }
            let loaded: Result<TLSServerConfiguration, TLSServerConfigurationError> = {
                do throws(TLSServerConfigurationError) {
                    return .success(try TLSServerConfiguration(certificateFile: tlsCert, keyFile: tlsKey))
                } catch {
                    return .failure(error)
                }
            }()
            switch loaded {
            case .success(let c): serverTLS = c
            case .failure(let e): throw UsageError("--tls-cert/--tls-key: " + e.description)
            }
        }
        guard let url, url.secure else {
            if signalCA != nil { throw UsageError("--signal-ca is for call with an https:// URL") }
            return
        }
        let path = signalCA ?? TLSClientConfiguration.systemCAFile
        let loaded: Result<TLSClientConfiguration, TLSError> = {
            do throws(TLSError) {
                return .success(try TLSClientConfiguration(caFile: path))
            } catch {
                return .failure(error)
            }
        }()
        switch loaded {
        case .success(let c): signalTLS = c
        case .failure(let e): throw UsageError("--signal-ca: " + e.description)
        }
    }

    /// rtpmap/fmtp values are given without the payload type; the SDP lines carry it.
    mutating func prefixPayloadType() {
        if !media.rtpmap.hasPrefix(media.payloadType + " ") {
            let encoding = media.rtpmap.split(separator: " ").last.map(String.init) ?? media.rtpmap
            media.rtpmap = media.payloadType + " " + encoding
        }
        if let f = media.fmtp {
            let params = f.split(separator: " ", maxSplits: 1).count == 2 && Int(f.split(separator: " ")[0]) != nil
                ? String(f.split(separator: " ", maxSplits: 1)[1]) : f
            media.fmtp = media.payloadType + " " + params
        }
    }

    func run() -> Int32 {
        guard let loop = openEventLoop() else { return 1 }
        let addresses = interfaceAddresses(filter).map { $0.address }
        if let listen { return serve(listen: listen, loop: loop, addresses: addresses) }
        if onButton { return runDoorbell(loop: loop) }
        return runCall(loop: loop, addresses: addresses)
    }
}

extension CallCommand {
    /// One call: `call` or `answer` with one session, signaling over stdio or to the URL.
    func runCall(loop: EventLoop, addresses: [IPAddress]) -> Int32 {
        let session: Session
        do throws(CallSetupError) {
            session = try makeSession(name: role == .controlling ? "doorbell" : "home", role: role, loop: loop, addresses: addresses,
                                      turn: try turnConfigs(), identity: try loadIdentity(), attachMedia: true, pcap: try openPcap())
        } catch {
            Log.error("\(error.description)")
            return 1
        }
        let status = statusSocket.flatMap { StatusServer(path: $0, loop: loop) { [session.statusJSON] } }
        _ = status
        // After the call's own setup, which it would otherwise share the loop with.
        if natType { session.probeNATType(at: monotonicNow() + .seconds(2)) }
        let leds = openLEDs(loop: loop)
        leds?.set(.gathering, now: monotonicNow())
        let watcher = CallWatcher(loop: loop, leds: leds, session: session)
        watcher.endWithoutPeer = duration == nil
        let http: HTTPSignalingClient?
        do throws(CallSetupError) { http = try startSignaling(session, loop: loop) } catch {
            Log.error("\(error.description)")
            return 1
        }
        watcher.http = http
        // The kernel says when addresses come and go (rtnetlink); the session decides whether
        // that needs an ICE restart.
        let filter = self.filter
        var network: NetworkWatcher? = nil
        do throws(SocketError) {
            network = try NetworkWatcher(session: session, loop: loop) { interfaceAddresses(filter).map { $0.address } }
        } catch {
            Log.warning("network: not watching interface changes (\(error.description))")
        }
        defer { network?.close() }
        // SIGUSR2: the network changed (a hook of the DHCP client or network manager says
        // so): restart ICE now rather than wait for consent to be lost.
        loop.onSignal(EventLoop.userSignal2) { now in
            Log.info("SIGUSR2: network changed")
            if !session.restartICE(now: now) { Log.info("ICE restart not possible now (no peer yet, or one in progress)") }
        }
        guard runLoop(loop) else { return 1 }
        return endCall(session, http: http)
    }

    /// Gives the session its signaling and starts it: the HTTP client POSTing to the URL
    /// (returned), or SDP lines on stdin/stdout.
    func startSignaling(_ session: Session, loop: EventLoop) throws(CallSetupError) -> HTTPSignalingClient? {
        guard let url else {
            let signaling = StdioSignaling(loop: loop)
            session.signaling = signaling
            session.start(now: monotonicNow())
            do throws(EventLoop.Failure) {
                try loop.register(fd: 0, signaling)
            } catch {
                // epoll refuses regular files (stdin redirected from a file): read it all now.
                while !signaling.eof { signaling.readable(now: monotonicNow()) }
            }
            return nil
        }
        guard let server = resolve(hostAndPort: url.hostAndPort) else { throw .unresolved(url.hostAndPort) }
        let client = HTTPSignalingClient(url: url, server: server, loop: loop, token: token, tls: signalTLS)
        session.signaling = client
        session.start(now: monotonicNow())
        return client
    }

    /// Ends the call and gives its exit status: 1 when the signaling or the media protection
    /// failed, 3 when ICE never connected or failed later, else 0.
    func endCall(_ session: Session, http: HTTPSignalingClient?) -> Int32 {
        Log.info("media: sent \(session.toPeer.packets) RTP packets, received \(session.fromPeer.packets) (gaps \(session.fromPeer.sequenceGaps))")
        if http?.failed == true || session.mediaFailed {
            session.close()
            return 1
        }
        // A restart the peer never answered is a call that failed as surely as ICE failing.
        let failed = session.agent.state == .failed || session.restartFailed
        http?.delete()
        session.close()
        return session.everConnected && !failed ? 0 : 3
    }

    /// `answer --listen`: an HTTP signaling server; each POSTed offer gets its own session,
    /// one call at a time, and the connected call gets the media ports.
    func serve(listen: TransportAddress, loop: EventLoop, addresses: [IPAddress]) -> Int32 {
        let turn: [TURNServerConfig]
        let pcap: PcapWriter?
        let identity: DTLSIdentity?
        do throws(CallSetupError) {
            turn = try turnConfigs()
            pcap = try openPcap()
            identity = try loadIdentity()
        } catch {
            Log.error("\(error.description)")
            return 1
        }
        let server: HTTPSignalingServer
        do throws(SocketError) {
            server = try HTTPSignalingServer(listen: listen, loop: loop, policy: signalingPolicy, tls: serverTLS) {
                do throws(CallSetupError) {
                    return try self.makeSession(name: "home", role: .controlled, loop: loop, addresses: addresses, turn: turn,
                                                identity: identity, attachMedia: false, pcap: pcap)
                } catch {
                    Log.error("\(error.description)")
                    return nil
                }
            }
        } catch {
            Log.error("cannot listen on \(listen): \(error.description)")
            return 1
        }
        if token == nil {
            Log.warning("signaling: no --token-file: anyone who reaches \(listen) can place and end calls (see README, Security model)")
        }
        Log.info("signaling: listening on \(serverTLS == nil ? "http" : "https")://\(server.listener.localAddress)/")
        let leds = openLEDs(loop: loop)
        leds?.set(.idle, now: monotonicNow())
        _ = CallWatcher(loop: loop, leds: leds, server: server)
        let status = statusSocket.flatMap { StatusServer(path: $0, loop: loop) { server.sessions.map { $0.statusJSON } } }
        _ = status
        guard runLoop(loop) else { return 1 }
        server.closeAll()
        return 0
    }

    /// What `answer --listen` allows a caller (`--token-file`, `--gather-wait`, `--setup-seconds`,
    /// `--max-session-seconds`) and where the connected call's media goes.
    var signalingPolicy: HTTPSignalingPolicy {
        var policy = HTTPSignalingPolicy()
        policy.token = token
        policy.rtpIn = rtpIn
        policy.rtpOut = rtpOut
        policy.gatherWait = .milliseconds(gatherWaitMilliseconds)
        policy.setupTimeout = .seconds(setupSeconds)
        policy.allowedOrigins = allowedOrigins
        policy.maxSessionLength = maxSessionSeconds > 0 ? .seconds(maxSessionSeconds) : nil
        return policy
    }
}

/// `--token-file FILE`: the bearer token, from a file so that it is not on the command line
/// (visible in /proc/PID/cmdline to every user).
func readTokenFile(_ path: String) throws(UsageError) -> BearerToken {
    guard let bytes = readFile(path, limit: 4096) else { throw UsageError("--token-file: cannot read " + path) }
    do throws(BearerToken.Failure) {
        let t = try BearerToken(fileText: bytes)
        if t.bytes.count < BearerToken.recommendedMinimum {
            Log.warning("--token-file \(path): a token of \(t.bytes.count) characters is guessable; use 32 random ones or more")
        }
        return t
    } catch {
        throw UsageError("--token-file " + path + ": " + error.description)
    }
}

/// `--turn-user-file FILE`: USER:PASSWORD for the TURN servers, from a file for the same reason.
func readTurnUserFile(_ path: String) throws(UsageError) -> (String, String) {
    guard let bytes = readFile(path, limit: 4096) else { throw UsageError("--turn-user-file: cannot read " + path) }
    var text = Substring(String(decoding: bytes, as: UTF8.self))
    while let l = text.last, l == "\n" || l == "\r" || l == " " || l == "\t" { text = text.dropLast() }
    while let f = text.first, f == " " || f == "\t" { text = text.dropFirst() }
    guard !text.contains("\n"), let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
        throw UsageError("--turn-user-file " + path + ": one line USER:PASSWORD expected")
    }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
}

/// `ice-agent status [--socket PATH]`: prints what a running daemon reports.
struct StatusCommand {
    var path = "/run/ice-agent.sock"

    static let spec = CommandSpec<StatusCommand>(
        name: "status", synopsis: "[--socket PATH]",
        about: "State, selected pair and counters of a daemon started with --status-socket PATH.\n"
            + "Exit status 1 when no daemon answers.",
        options: [
            Option("--socket", .value("PATH"), "the daemon's status socket (default /run/ice-agent.sock)") { c, v throws(UsageError) in
                c.path = v
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try StatusCommand.spec.parse(arguments, into: &self)
    }

    func run() -> Int32 {
        guard let text = readUnixSocket(path: path) else {
            printError("ice-agent: no daemon answers on \(path) (start it with --status-socket \(path))")
            return 1
        }
        writeStdout(text)
        return 0
    }
}
