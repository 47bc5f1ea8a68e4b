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

    public init() {}
}
