import Common
import Daemon
import HTTP
import ICE
import Runtime
import TURN

/// The options of `call` and `answer` (one table: the same options and config keys for both;
/// `CallCommand.init` checks which combinations a role allows).
extension CallCommand {
    static func spec(role: Role) -> CommandSpec<CallCommand> {
        let controlling = role == .controlling
        return CommandSpec(
            name: controlling ? "call" : "answer",
            synopsis: controlling ? "(URL | --signal stdio) [OPTION]..." : "(--listen ADDR:PORT | --signal stdio) [OPTION]...",
            about: controlling
                ? "The doorbell: calls home (controlling ICE agent, sends the offer).\n"
                    + "Exit status: 0 connected, 1 runtime failure, 2 usage or configuration error, 3 ICE never connected."
                : "The home: answers calls (controlled ICE agent); an HTTP signaling server with --listen,\n"
                    + "one call at a time (503 + Retry-After otherwise).\n"
                    + "Exit status: 0 connected, 1 runtime failure, 2 usage or configuration error, 3 ICE never connected.",
            options: options,
            positional: Positional(name: "URL", help: "call: http[s]://HOST[:PORT]/PATH, a WHIP-style signaling endpoint (https: port 443 by default)", configKey: "url") {
                c, v throws(UsageError) in
                guard v.hasPrefix("http://") || v.hasPrefix("https://") else { throw UsageError("unknown option: " + v) }
                guard c.role == .controlling, let u = HTTPURL(v) else { throw UsageError("bad URL: " + v) }
                c.url = u
            },
            acceptsConfig: true)
    }

    static let options: [Option<CallCommand>] = [
        Option("--signal", .value("stdio"), config: true, "SDP offer/answer as lines on stdin/stdout") { c, v throws(UsageError) in
            c.signal = v
        },
        Option("--listen", .value("ADDR:PORT"), config: true, "answer: the HTTP signaling server's address") { c, v throws(UsageError) in
            c.listen = try parseAddress(v)
        },
        Option("--stun", .value("HOST:PORT|stun:URI"), repeatable: true, config: true,
               "STUN server for server-reflexive candidates") { c, v throws(UsageError) in
            c.stunServers.append(try stunServer(v))
        },
        Option("--turn", .value("URI"), repeatable: true, config: true,
               "TURN server: turn:HOST[:PORT][?transport=tcp], turns:HOST[:PORT] or HOST:PORT") { c, v throws(UsageError) in
            c.turnURLs.append(v)
        },
        Option("--turn-user", .value("USER:PASSWORD"), config: true, "TURN credentials") { c, v throws(UsageError) in
            guard let colon = v.firstIndex(of: ":") else { throw UsageError("--turn-user takes USER:PASSWORD") }
            c.turnUser = (String(v[..<colon]), String(v[v.index(after: colon)...]))
        },
        Option("--turn-user-file", .value("FILE"), config: true, "TURN credentials from a file (one line USER:PASSWORD)") {
            c, v throws(UsageError) in
            c.turnUser = try readTurnUserFile(v)
        },
        Option("--turn-ca", .value("FILE"), config: true, "CA certificates for turns: servers (default: the system's)") {
            c, v throws(UsageError) in
            c.turnCA = v
        },
        Option("--signal-ca", .value("FILE"), config: true,
               "call https://: CA certificates (PEM) that must sign the signaling server's certificate (default: the system's)") {
            c, v throws(UsageError) in
            c.signalCA = v
        },
        Option("--tls-cert", .value("FILE"), config: true,
               "answer --listen: serve HTTPS with this certificate chain (PEM, leaf first; needs --tls-key)") { c, v throws(UsageError) in
            c.tlsCert = v
        },
        Option("--tls-key", .value("FILE"), config: true, "answer --listen: the private key (PEM, unencrypted) of --tls-cert") {
            c, v throws(UsageError) in
            c.tlsKey = v
        },
        Option("--relay-only", .flag, config: true, "offer relayed candidates only (needs --turn)") { c, _ throws(UsageError) in
            c.relayOnly = true
        },
        Option("--no-nat-type", .flag, config: true,
               "do not ask the --stun server for the NAT's behaviour (RFC 5780) during a call (status \"nat\")") {
            c, _ throws(UsageError) in
            c.natType = false
        },
        Option("--rtp-in", .value("ADDR:PORT"), config: true, "where the local media source sends RTP to be forwarded") {
            c, v throws(UsageError) in
            c.rtpIn = try parseAddress(v)
        },
        Option("--rtp-out", .value("ADDR:PORT"), config: true, "where media from the peer is delivered") { c, v throws(UsageError) in
            c.rtpOut = try parseAddress(v)
        },
        Option("--interface", .value("NAME"), repeatable: true, config: true, "gather only on these interfaces") {
            c, v throws(UsageError) in
            c.filter.include.append(v)
        },
        Option("--exclude-interface", .value("NAME"), repeatable: true, config: true, "never gather on these interfaces") {
            c, v throws(UsageError) in
            c.filter.exclude.append(v)
        },
        Option("--allow-loopback", .flag, config: true, "gather on loopback addresses too") { c, _ throws(UsageError) in
            c.filter.includeLoopback = true
        },
        Option("--media", .value("audio|video"), config: true, "the m= line's media (default video)") { c, v throws(UsageError) in
            guard v == "audio" || v == "video" else { throw UsageError("--media: audio or video") }
            c.media.kind = v
        },
        Option("--payload-type", .value("0..127"), config: true, "the RTP payload type (default 96)") { c, v throws(UsageError) in
            guard let pt = Int(v), (0...127).contains(pt) else { throw UsageError("--payload-type: 0..127") }
            c.media.payloadType = v
        },
        // RFC 8866 §6.6: "ENCODING/CLOCK[/CHANNELS]" for the payload type.
        Option("--rtpmap", .value("ENCODING/CLOCK[/CHANNELS]"), config: true, "the a=rtpmap value (default H264/90000)") {
            c, v throws(UsageError) in
            guard v.split(separator: "/").count >= 2, !v.contains(" ") else { throw UsageError("--rtpmap: ENCODING/CLOCK[/CHANNELS]") }
            c.media.rtpmap = v
        },
        Option("--fmtp", .value("PARAMS"), config: true, "the a=fmtp parameters (default packetization-mode=1;profile-level-id=42e01f; empty: none)") { c, v throws(UsageError) in
            c.media.fmtp = v.isEmpty ? nil : v
        },
        Option("--intercom", .flag, config: true,
               "also carry Opus audio both ways (payload type 111 on --rtp-in/--rtp-out) beside the video") { c, _ throws(UsageError) in
            c.media.intercom = true
        },
        Option("--media-security", .value("dtls-srtp|none"), config: true,
               "dtls-srtp (default): media encrypted (RFC 5764); none: clear RTP, for legacy peers only") {
            c, v throws(UsageError) in
            switch v {
            case "dtls-srtp": c.media.security = .dtlsSrtp
            case "none": c.media.security = .none
            default: throw UsageError("--media-security: dtls-srtp or none")
            }
        },
        Option("--identity", .value("FILE"), config: true,
               "the DTLS certificate and key (created 0600 on first start; default $STATE_DIRECTORY, else ~/.local/state/ice-agent/identity.pem)") {
            c, v throws(UsageError) in
            c.identityPath = v
        },
        Option("--token-file", .value("FILE"), config: true, "the bearer token answer --listen requires and call sends") {
            c, v throws(UsageError) in
            c.token = try readTokenFile(v)
        },
        Option("--allow-origin", .value("ORIGIN"), repeatable: true, config: true,
               "answer --listen: a web origin (http[s]://HOST[:PORT]) whose pages may POST offers from a browser (CORS; none by default)") {
            c, v throws(UsageError) in
            guard let origin = HTTPSignalingPolicy.serializedOrigin(v) else {
                throw UsageError("--allow-origin takes http://HOST[:PORT] or https://HOST[:PORT], without a path: " + v)
            }
            guard c.allowedOrigins.count < 16 else { throw UsageError("--allow-origin: at most 16 origins") }
            c.allowedOrigins.append(origin)
        },
        Option("--setup-seconds", .value("S"), config: true, "answer --listen: a call not connected by then ends (1..3600, default 30)") {
            c, v throws(UsageError) in
            c.setupSeconds = try number(v, in: 1...3600, "--setup-seconds takes 1 to 3600")
        },
        Option("--max-session-seconds", .value("S"), config: true, "answer --listen: the longest call (0: no limit; default 3600)") {
            c, v throws(UsageError) in
            c.maxSessionSeconds = try number(v, in: 0...604_800, "--max-session-seconds takes 0 (no limit) to 604800")
        },
        Option("--gather-wait", .value("MS"), config: true, "answer --listen: how long the answer waits for gathering (default 1000)") {
            c, v throws(UsageError) in
            c.gatherWaitMilliseconds = try number(v, in: 0...30_000, "--gather-wait takes 0 to 30000 ms")
        },
        Option("--on-button", .flag, config: true, "call URL: idle until the button (--board) or SIGUSR1; each press places a call") {
            c, _ throws(UsageError) in
            c.onButton = true
        },
        Option("--call-seconds", .value("S"), config: true, "--on-button: the longest call (default 120)") { c, v throws(UsageError) in
            c.callSeconds = try number(v, in: 1...Int64.max, "--call-seconds takes seconds > 0")
        },
        Option("--board", .value("FILE"), config: true, "board file: status LEDs and the doorbell button") { c, v throws(UsageError) in
            c.boardPath = v
        },
        Option("--pcap", .value("FILE"), config: true, "record every datagram (STUN, TURN, RTP) to a pcap file") { c, v throws(UsageError) in
            c.pcapPath = v
        },
        Option("--pcap-max-bytes", .value("N"), config: true,
               "rotate the capture at this size (default 16 MiB, at least \(PcapWriter.minimumMaxBytes))") { c, v throws(UsageError) in
            c.pcapMaxBytes = try number(v, in: PcapWriter.minimumMaxBytes...Int.max,
                                        "--pcap-max-bytes takes bytes >= \(PcapWriter.minimumMaxBytes)")
        },
        Option("--status-socket", .value("PATH"), config: true, "serve state and counters for ice-agent status") { c, v throws(UsageError) in
            c.statusSocket = v
        },
        Option("--duration", .value("S"), config: true, "stop after S seconds") { c, v throws(UsageError) in
            c.duration = try number(v, in: 1...Int64.max, "--duration takes seconds > 0")
        },
        Option("--log-level", .value("LEVEL"), config: true, "error|warning|info|debug|trace") { _, v throws(UsageError) in
            try setLogLevel(v)
        },
        Option("--log-timestamps", .flag, config: true, "start each log line with the wall-clock time (Unix seconds.microseconds)") { _, _ throws(UsageError) in
            Log.timestamps = true
        },
    ]
}

/// A `--stun` value: HOST:PORT or an RFC 7064 URI. Server-reflexive candidates need the
/// mapping of the UDP base itself, so STUN over TLS (stuns:) cannot give one.
func stunServer(_ v: String) throws(UsageError) -> TransportAddress {
    var hostAndPort = v
    if v.hasPrefix("stun:") || v.hasPrefix("stuns:") {
        let uri: TURNServerURI
        do throws(TURNURIError) { uri = try TURNServerURI.parse(v) } catch {
            throw UsageError("--stun " + v + ": " + error.description)
        }
        guard !uri.scheme.isSecure else { throw UsageError("--stun " + v + ": stuns: cannot give a server-reflexive candidate (use stun:)") }
        hostAndPort = uri.hostAndPort
    }
    guard let a = resolve(hostAndPort: hostAndPort) else { throw UsageError("cannot resolve --stun " + v) }
    return a
}

func setLogLevel(_ v: String) throws(UsageError) {
    guard let l = LogLevel(name: v) else { throw UsageError("--log-level: error|warning|info|debug|trace") }
    Log.level = l
}
