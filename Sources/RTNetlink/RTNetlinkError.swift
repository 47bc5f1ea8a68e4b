/// Why a netlink datagram was refused (it comes from the kernel, but is parsed as untrusted:
/// a bug or another sender must not crash the agent).
public enum RTNetlinkError: Error, Equatable, Sendable {
    /// Shorter than the header it announces, or than a netlink header.
    case truncated
    /// A length field below its structure's minimum or past the datagram.
    case badLength
    /// More messages than `RTNetlinkParser.maxMessages` in one datagram.
    case tooManyMessages

    public var description: String {
        switch self {
        case .truncated: return "truncated netlink message"
        case .badLength: return "netlink length field out of bounds"
        case .tooManyMessages: return "too many netlink messages in one datagram"
        }
    }
}
