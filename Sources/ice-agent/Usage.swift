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

/// `ice-agent --help`: every command's entry from its option table (`CommandSpec.overviewEntry`),
/// so the overview cannot drift from `COMMAND --help`.
func usageText(_ commands: [Command]) -> String {
    var out = "usage:\n"
    for c in commands { out += c.overview() }
    out += """
          ice-agent --version | --help
          ice-agent COMMAND --help
              The options of one command, with their values and defaults (e.g. ice-agent call --help,
              ice-agent stun client --help).

        exit status: 0 success, 1 runtime failure (timeout, socket error), 2 usage or configuration
        error, 3 ICE never connected (call/answer --signal stdio or URL) or the STUN server lacks RFC 5780
        (nat-type).

        """
    return out
}
