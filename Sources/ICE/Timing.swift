import Common

/// Every timer of the ICE agent, in one place (named as in the RFCs where they have names).
public enum Timing {
    /// RFC 8445 §14.2: default pacing between new checks (Ta); 20 ms is allowed for RTP-only.
    public static let ta = Interval.milliseconds(50)
    /// RFC 8445 §14.3: lower bound of a connectivity check's RTO.
    public static let minimumCheckRTO = Interval.milliseconds(500)
    /// RFC 8489 §6.2.1 Rc and Rm for checks and gathering transactions.
    public static let maxSends = 7
    public static let lastWaitFactor: Int64 = 16
    /// RFC 7675 §5.1: consent checks every 4 to 6 s (5 s randomised by +-20%).
    public static let consentBase = Interval.seconds(5)
    /// RFC 7675 §5.1: consent expires 30 s after the last authenticated response.
    public static let consentTimeout = Interval.seconds(30)
    /// Consent responses missing this long mark the agent disconnected (still recoverable).
    public static let disconnectedAfter = Interval.seconds(10)
    /// RFC 8445 §11: keepalive (Tr) when consent freshness is not running: at least 15 s.
    public static let keepalive = Interval.seconds(15)
    /// How long the controlling agent waits for better pairs after the first valid one before
    /// nominating (no RFC value; RFC 8445 §8.1.1 leaves the choice to the agent).
    public static let nominationDelay = Interval.milliseconds(500)
    /// Without end-of-candidates (RFC 8838 §8), checking fails only after all pairs failed and
    /// no new remote candidate arrived for this long.
    public static let remoteCandidateWait = Interval.seconds(10)
}
