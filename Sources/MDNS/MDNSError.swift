/// Why a name or an mDNS message was refused. Every malformation of a received datagram is
/// one of these; the datagram is then dropped whole.
public enum MDNSError: Error, Equatable, Sendable {
    /// The datagram ends inside the header, a name, a question or a record (RFC 1035 §4.1).
    case truncated
    /// QR is 0 (a query), or the opcode is not QUERY (RFC 6762 §18.3: such messages are ignored).
    case notAResponse
    /// RCODE is not 0 (RFC 6762 §18.11: such messages are ignored).
    case errorResponse(UInt8)
    /// A label length whose top bits are 01 or 10 (RFC 1035 §4.1.4 reserves them; RFC 6891's
    /// extended labels are not used by mDNS).
    case badLabel
    /// A compression pointer that does not point strictly backwards, or more than
    /// `MDNSWire.maxPointers` of them in one name (RFC 1035 §4.1.4): a loop otherwise.
    case badPointer
    /// A name longer than 255 bytes on the wire (RFC 1035 §2.3.4).
    case nameTooLong
    /// More questions or records than `MDNSWire.maxRecords`.
    case tooManyRecords
    /// An A record whose RDATA is not 4 bytes or an AAAA one not 16 (RFC 1035 §3.4.1, RFC 3596 §2.2).
    case badAddressLength
    /// A name to resolve that is empty, has an empty or over-long label, a byte other than a
    /// letter, digit, hyphen or underscore, or does not end in ".local" (RFC 6762 §3).
    case badName
    /// `MDNSResolution` already resolves its maximum number of names.
    case tooManyResolutions
}

extension MDNSError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated: return "truncated mDNS message"
        case .notAResponse: return "not an mDNS response"
        case let .errorResponse(code): return "mDNS response with RCODE \(code)"
        case .badLabel: return "bad label type"
        case .badPointer: return "bad compression pointer"
        case .nameTooLong: return "name longer than 255 bytes"
        case .tooManyRecords: return "too many records"
        case .badAddressLength: return "address record of the wrong length"
        case .badName: return "not a resolvable .local name"
        case .tooManyResolutions: return "too many names being resolved"
        }
    }
}
