/// Why RFC 5780 behaviour discovery could not reach a verdict.
public enum NATDiscoveryError: Error, Equatable, Sendable {
    /// Test I (RFC 5780 §4.3) got no usable Binding response: the server is unreachable or
    /// UDP is blocked.
    case noResponse
    /// The server's responses carry no OTHER-ADDRESS, or it refused CHANGE-REQUEST with 420
    /// (RFC 5780 §4.2, §6.1): it does not support RFC 5780.
    case serverLacksRFC5780
    /// The server named an alternate address (OTHER-ADDRESS) that never answered mapping test
    /// II or III, or one that does not differ from the primary in both IP and port (§4.2).
    case alternateUnreachable
    /// An error response to a request the test cannot do without.
    case errorResponse(code: Int)
    /// The whole run's time bound passed before mapping and filtering were known.
    case timedOut

    public var name: StaticString {
        switch self {
        case .noResponse: return "no-response"
        case .serverLacksRFC5780: return "server-lacks-rfc5780"
        case .alternateUnreachable: return "alternate-unreachable"
        case .errorResponse: return "error-response"
        case .timedOut: return "timed-out"
        }
    }
}
