import Common
import HTTP

/// What `answer --listen` allows and for how long (README "Security model"). Every bound here
/// holds against a peer that sends anything at all.
public struct HTTPSignalingPolicy {
    /// Sessions at once, in setup or connected: the home takes one call at a time, and a POST
    /// beyond this gets 503 with Retry-After (RFC 9725 §4.5, RFC 9110 §10.2.3).
    public var maxSessions = 1
    /// Accepted connections at once, and from one source address.
    public var maxConnections = 16
    public var maxConnectionsPerAddress = 4
    /// The answer waits at most this for gathering to finish (server-reflexive and relayed
    /// candidates): RFC 9725 §4.3.2 has the answer carry all of the server's candidates.
    public var gatherWait = Interval.milliseconds(1000)
    /// A session whose ICE has not connected by then ends (its peer may never send a check).
    public var setupTimeout = Interval.seconds(30)
    /// The longest call (`--max-session-seconds`); nil: no limit.
    public var maxSessionLength: Interval? = .seconds(3600)
    /// A request must arrive whole within this after the connection is accepted.
    public var requestTimeout = Interval.seconds(10)
    /// The Retry-After of a 503 while the home is busy.
    public var retryAfterSeconds = 10
    /// When set, every request must carry it (RFC 9725 §4.7.1, RFC 6750 §2.1).
    public var token: BearerToken? = nil
    /// The media ports (`--rtp-in`, `--rtp-out`): held by one connected call at a time.
    public var rtpIn: TransportAddress? = nil
    public var rtpOut: TransportAddress? = nil
    /// Web origins whose pages may call the endpoint from a browser (`--allow-origin`), as
    /// RFC 6454 §6.1 serializes them; none by default, so a browser blocks every page
    /// (Fetch standard, CORS protocol). The bearer token still applies to their requests.
    public var allowedOrigins: [String] = []
    /// Access-Control-Max-Age of a preflight: how long a browser may reuse it.
    public var preflightMaxAgeSeconds = 600
    /// Longest origin accepted in configuration (a host name is at most 253 bytes).
    public static let maxOriginBytes = 300

    public init() {}

    /// An origin as configured: `http://HOST[:PORT]` or `https://HOST[:PORT]`, in the
    /// lower-case form browsers send in `Origin` (RFC 6454 §6.1: no path, no trailing slash);
    /// nil for anything else. `null` (opaque origins: file:, data:, sandboxed frames) is never
    /// one: every such page would share it.
    public static func serializedOrigin(_ text: String) -> String? {
        let lower = text.asciiLowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            rest = lower.dropFirst("http://".count)
        } else if lower.hasPrefix("https://") {
            rest = lower.dropFirst("https://".count)
        } else {
            return nil
        }
        guard lower.utf8.count <= maxOriginBytes, !rest.isEmpty else { return nil }
        // Host (name, IPv4 or [IPv6]) and port characters only: no path, query, userinfo or blanks.
        let ok = rest.utf8.allSatisfy { c in
            (c >= 48 && c <= 58) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 91 || c == 93
        }
        guard ok, rest.first != ":", rest.last != ":" else { return nil }
        return lower
    }
}
