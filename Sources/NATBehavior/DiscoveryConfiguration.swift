import Common

/// How a discovery run talks to its server and how long it may take.
public struct DiscoveryConfiguration: Sendable {
    /// At most this many local addresses are compared with test I's mapped address.
    public static let maxLocalAddresses = 32

    /// The server's primary address (RFC 5780 §4.2: the one the client was configured with).
    public var server: TransportAddress
    /// The transport addresses socket 0 is known by (its bound address, or each interface
    /// address with its port when bound to the wildcard): test I's mapped address among them
    /// means no NAT (RFC 5780 §4.3).
    public var localAddresses: [TransportAddress]
    /// Per-test RFC 8489 §6.2.1 schedule. Filtering tests conclude from silence (RFC 5780
    /// §4.4), so the defaults are shorter than RFC 8489's 39.5 s: 250 + 500 + 1000 ms, then
    /// 4 x RTO after the last of 4 sends, 2.75 s per silent test.
    public var rto: Interval = .milliseconds(250)
    public var maxSends = 4
    public var lastWaitFactor: Int64 = 4
    /// The hard bound on the whole run.
    public var timeLimit: Interval = .seconds(20)
    /// RFC 5780 §4.5 hairpinning test, with a second local socket.
    public var testHairpinning = true
    /// RFC 5780 §4.6 mapping lifetime test; off by default since it takes minutes.
    public var lifetime: LifetimeProbe? = nil

    public init(server: TransportAddress, localAddresses: [TransportAddress]) {
        self.server = server
        self.localAddresses = localAddresses
    }

    /// The settings with every value forced into a sane range, so a hostile or mistaken
    /// configuration can neither spin nor run for ever.
    var clamped: DiscoveryConfiguration {
        var c = self
        if c.localAddresses.count > Self.maxLocalAddresses {
            c.localAddresses = Array(c.localAddresses[0..<Self.maxLocalAddresses])
        }
        c.rto = Interval(nanoseconds: min(max(c.rto.nanoseconds, Interval.milliseconds(10).nanoseconds),
                                          Interval.seconds(10).nanoseconds))
        c.maxSends = min(max(c.maxSends, 1), 10)
        c.lastWaitFactor = min(max(c.lastWaitFactor, 1), 16)
        c.timeLimit = Interval(nanoseconds: min(max(c.timeLimit.nanoseconds, Interval.milliseconds(100).nanoseconds),
                                                Interval.seconds(3600).nanoseconds))
        if var l = c.lifetime {
            l.first = Interval(nanoseconds: min(max(l.first.nanoseconds, Interval.seconds(1).nanoseconds),
                                                LifetimeProbe.longest.nanoseconds))
            l.longest = Interval(nanoseconds: min(max(l.longest.nanoseconds, l.first.nanoseconds),
                                                  LifetimeProbe.longest.nanoseconds))
            c.lifetime = l
        }
        return c
    }
}

/// RFC 5780 §4.6: how long an idle mapping is probed for. The idle time doubles from `first`
/// while the mapping survives, up to `longest`: at most 12 rounds.
public struct LifetimeProbe: Equatable, Sendable {
    /// The longest idle time ever probed: RFC 4787 REQ-5 asks for at least 2 minutes, and
    /// a NAT keeping idle mappings longer than 30 minutes needs no keepalive planning.
    public static let longest = Interval.seconds(1800)

    public var first: Interval
    public var longest: Interval

    public init(first: Interval = .seconds(5), longest: Interval = .seconds(120)) {
        self.first = first
        self.longest = longest
    }
}

/// The client's two UDP sockets: socket 0 runs the mapping and filtering tests, socket 1 is
/// the second socket of the hairpinning test (RFC 5780 §4.5).
public enum LocalSocket: Int, Equatable, Sendable {
    case socket0 = 0
    case socket1 = 1

    var other: LocalSocket { self == .socket0 ? .socket1 : .socket0 }
}

/// A datagram to send: the first `count` bytes of the caller's buffer, from `socket`.
public struct DiscoveryTransmit: Equatable, Sendable {
    public var socket: LocalSocket
    public var destination: TransportAddress
    public var count: Int
}
