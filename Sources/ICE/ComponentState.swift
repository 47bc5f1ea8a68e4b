import Common

/// What the agent keeps per component (RFC 8445 §4): its selected pair and the consent and
/// keepalive times on it. Not nested in the generic `Agent`: a nested type depends on
/// `Random`, and code not specialized for it asked the runtime for its metadata on every access.
struct ComponentState {
    var selected: PairID? = nil
    /// Whether `selected` was nominated when last announced.
    var announcedNominated = false
    var firstValidAt: Instant? = nil
    var nextConsent: Instant? = nil
    var lastConsent: Instant? = nil
    var lastKeepalive: Instant? = nil
    /// The last rebound mapping reported (`mappingChanged`), so it is reported once.
    var reboundTo: TransportAddress? = nil
}
