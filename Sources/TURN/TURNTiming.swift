import Common
import STUN

/// Every timer and retry limit of the TURN client, in one place (RFC 8656 unless noted).
///
/// Refresh policy: each object is refreshed a fixed lead time (60 s) before it expires, the
/// "refresh before expiry" rule of RFC 8656 §8 (allocations), §9 (permissions) and §12
/// (channel bindings); the lead is the libjuice/pion choice. Lifetimes shorter than twice
/// the lead are refreshed at half their lifetime instead.
public enum TURNTiming {
    /// RFC 8656 §7.2: the server's default allocation lifetime (10 minutes) when the client
    /// asks for none and the response carries no LIFETIME.
    public static let defaultAllocationLifetime = Interval.seconds(600)
    /// How long before an allocation expires the client sends its Refresh (RFC 8656 §8).
    public static let allocationRefreshLead = Interval.seconds(60)
    /// RFC 8656 §9: a permission lives 300 s (5 minutes) unless refreshed...
    public static let permissionLifetime = Interval.seconds(300)
    /// ...and is refreshed with a new CreatePermission 60 s before that (at 240 s).
    public static let permissionRefresh = Interval.seconds(240)
    /// RFC 8656 §12: a channel binding lives 600 s (10 minutes) unless refreshed...
    public static let channelLifetime = Interval.seconds(600)
    /// ...and is refreshed with a new ChannelBind 60 s before that (at 540 s). A ChannelBind
    /// also refreshes the peer's permission (RFC 8656 §12), but permissions expire sooner, so
    /// they keep their own 240 s refresh.
    public static let channelRefresh = Interval.seconds(540)
    /// RFC 8656 §12: channel numbers the client may use (0x5000-0x7FFF are reserved).
    public static let firstChannel: UInt16 = 0x4000
    public static let lastChannel: UInt16 = 0x4FFF

    /// RFC 8489 §6.2.1 over UDP: initial RTO, Rc and Rm (via `STUN.Retransmission`).
    public static let rto = Retransmission.defaultRTO
    public static let maxSends = Retransmission.defaultRc
    public static let lastWaitFactor = Retransmission.defaultRm
    /// RFC 8489 §6.2.2: over TCP/TLS a request is sent once and fails after Ti = 39.5 s.
    public static let reliableTransactionTimeout = Interval.milliseconds(39_500)

    /// Allocate attempts for retryable failures (486 quota, 508 capacity, 500, timeout),
    /// spaced by `allocateRetryBackoff` doubling each time (5 s, 10 s, ...).
    public static let maxAllocateAttempts = 3
    public static let allocateRetryBackoff = Interval.seconds(5)
    /// 438 (Stale Nonce) retries of one request before giving up (RFC 8489 §9.2.5 retries
    /// with the new nonce; a server that keeps rejecting it is broken).
    public static let maxStaleNonceRetries = 3
    /// RFC 8489 §10 / RFC 8656 §7.4: follow at most this many 300 (Try Alternate) redirects.
    public static let maxRedirects = 1
    /// Over UDP, a Binding indication goes to the server when nothing else was sent to it for
    /// this long while allocated. NATs may drop a UDP mapping after 2 minutes idle (RFC 4787
    /// REQ-5 sets that as the minimum, and some expire sooner), and the allocation would then
    /// be lost at its next Refresh (437 from the new mapped port). 15 s is the keepalive
    /// interval RFC 8445 §11 uses for the same reason on candidate pairs: well inside even
    /// short NAT timeouts, at one 28-byte datagram per idle allocation.
    public static let keepaliveInterval = Interval.seconds(15)
    /// A refresh that could not start (full transaction table) is retried after this.
    public static let busyRetry = Interval.seconds(1)
}
