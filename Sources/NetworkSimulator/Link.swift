import Common

/// The behaviour of one direction of a link (a host's or a NAT's access link to its realm).
///
/// Per datagram and per link crossed: with probability `loss` it is lost; otherwise it takes
/// `latency`, plus a uniformly drawn extra delay in `0...jitter`, plus `reorderDelay` with
/// probability `reorder`. Jitter and reordering let later datagrams overtake earlier ones;
/// with neither, a link is FIFO. The random draws come from the network's seeded generator and
/// are made only for knobs that are non-zero, so a lossless, jitter-free setup draws nothing.
public struct LinkConditions: Equatable, Sendable {
    public var latency: Interval
    var jitter: Interval
    /// Probability in 0...1 that a datagram is lost on this link.
    public var loss: Double
    /// Probability in 0...1 that a datagram is held back by `reorderDelay`.
    var reorder: Double
    var reorderDelay: Interval

    public init(latency: Interval = .milliseconds(10), jitter: Interval = .milliseconds(0), loss: Double = 0,
         reorder: Double = 0, reorderDelay: Interval = .milliseconds(20)) {
        precondition((0...1).contains(loss) && (0...1).contains(reorder), "loss and reorder are probabilities in 0...1")
        precondition(latency.nanoseconds >= 0 && jitter.nanoseconds >= 0 && reorderDelay.nanoseconds >= 0,
                     "link delays must not be negative")
        self.latency = latency
        self.jitter = jitter
        self.loss = loss
        self.reorder = reorder
        self.reorderDelay = reorderDelay
    }

    /// A perfect link: no delay, no loss (the default for a NAT's own link to its outer realm).
    public static let instant = LinkConditions(latency: .milliseconds(0))
    /// The default host access link: 10 ms one way, nothing else.
    static let `default` = LinkConditions()

    public static func latency(_ latency: Interval) -> LinkConditions { LinkConditions(latency: latency) }

    /// What happens to one datagram crossing this link: nil when lost, else its delay.
    func sample<R: RandomSource>(_ random: inout R) -> Interval? {
        if loss > 0 && random.nextUnit() < loss { return nil }
        var delay = latency
        if jitter.nanoseconds > 0 {
            delay = delay + Interval(nanoseconds: Int64(random.next() % UInt64(jitter.nanoseconds + 1)))
        }
        if reorder > 0 && random.nextUnit() < reorder { delay = delay + reorderDelay }
        return delay
    }
}

extension RandomSource {
    /// A uniform Double in [0, 1) from the top 53 bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
