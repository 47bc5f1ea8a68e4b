import Runtime

/// A command-line mistake: one line on stderr naming the command, exit status 2. A help
/// request travels the same way (exit 0, the command's help on stdout).
enum UsageError: Error {
    case helpRequested
    case unknownOption(String)
    case missingValue(option: String, metavar: String)
    case unexpectedArgument(String)
    case invalid(String)

    init(_ message: String) { self = .invalid(message) }

    var message: String {
        switch self {
        case .helpRequested: return "help requested"
        case .unknownOption(let o): return "unknown option " + o
        case .missingValue(let o, let metavar): return o + " needs a value (" + metavar + ")"
        case .unexpectedArgument(let a): return "unexpected argument: " + a
        case .invalid(let m): return m
        }
    }
}

let usageText = """
    usage:
      ice-agent call (URL | --signal stdio) [--stun HOST:PORT|stun:URI]... [--rtp-in ADDR:PORT] [--rtp-out ADDR:PORT]
                     [--interface NAME]... [--allow-loopback] [--duration S] [--log-level L]
          The doorbell: calls home. URL (http://host:port/path) is a WHIP-style endpoint.
      ice-agent answer (--listen ADDR:PORT | --signal stdio) [same options]
          The home: answers calls (HTTP signaling server with --listen).
          More: --exclude-interface NAME, --pcap FILE [--pcap-max-bytes N], --status-socket PATH, --config FILE.
          --on-button (call, with a URL): idle until the board's button (--board FILE) or
          SIGUSR1 is pressed; each press places one call of at most --call-seconds S (120).
          --token-file FILE: the bearer token answer --listen requires and call sends.
          answer --listen takes one call at a time (503 + Retry-After otherwise); a call ends
          on DELETE, ICE failure, --setup-seconds S without connecting (30) or
          --max-session-seconds S (3600; 0: no limit); the answer waits --gather-wait MS (1000).
          TURN credentials: --turn-user USER:PASSWORD or --turn-user-file FILE (one line).
      ice-agent status [--socket PATH]
          State, selected pair and counters of a daemon started with --status-socket.
      ice-agent rtp send --to ADDR:PORT [--seconds S] | rtp receive --listen ADDR:PORT [--seconds S]
          A stand-in camera (valid RTP, PT 96, every 20 ms) and a counting receiver.
      ice-agent demo [--seconds N] [--log-level L]
          Home and doorbell on loopback with a STUN server and an RTP test source.
      ice-agent turn allocate --server URI|HOST:PORT --user USER:PASSWORD [--ca FILE] [--family 4|6]
                              [--peer ADDR:PORT] [--realm R] [--lifetime S] [--hold S] [--timeout S] [--rto MS]
          TURN (RFC 8656) allocation over UDP, TCP or TLS (turn:, turn:?transport=tcp, turns:):
          prints the relayed and mapped addresses; with --peer, echoes a datagram through a
          permission and a channel. Deallocates before exiting.
      ice-agent stun decode [--password P] [--long-term USER:REALM:PASSWORD]
          Reads hex-encoded STUN messages, one per line, on stdin; prints one JSON object per line.
      ice-agent stun server --listen ADDR:PORT [--alternate ADDR:PORT]
          STUN Binding server. With --alternate (a second IP and port), RFC 5780 RESPONSE-ORIGIN,
          OTHER-ADDRESS and CHANGE-REQUEST are supported.
      ice-agent stun client HOST:PORT [--bind ADDR:PORT] [--rto MS] [--retries N] [--print-hex]
          Sends a Binding request (RFC 8489 retransmissions: RTO default 500 ms, doubling,
          N sends default 7, then 16 x RTO) and prints the mapped address; exit status 1 on
          timeout or an error response. --print-hex shows both messages on stderr as hex.
      ice-agent --version | --help
      ice-agent COMMAND --help
          The options of one command (e.g. ice-agent call --help, ice-agent stun client --help).

    exit status: 0 success, 1 runtime failure (timeout, socket error), 2 usage or configuration
    error, 3 ICE never connected (call/answer --signal stdio or URL).
    """

func printError(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = writeStderr($0) }
}
