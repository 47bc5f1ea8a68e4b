/// Why an SDP text was rejected; `line` is 1-based (0 when not about one line).
public struct SDPError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// A line that is not "<letter>=<value>".
        case malformedLine
        /// v= missing or not 0 (RFC 8866 §5.1).
        case badVersion
        /// An m= line that does not parse (RFC 8866 §5.14).
        case badMediaLine
        /// A candidate attribute that does not parse (RFC 8839 §5.1).
        case badCandidate
        /// A candidate whose address is a name (e.g. an mDNS ".local" one, an FQDN, an
        /// address with a zone id) or otherwise not an IP.
        case unresolvedAddress
        /// A well-formed candidate of a transport or type this agent does not know.
        case unsupportedCandidate
        /// ice-ufrag / ice-pwd missing or outside RFC 8839 §5.4 limits.
        case badCredentials
        /// More than the parser's fixed limits (lines, media sections, candidates).
        case tooLarge

        /// RFC 8839 §5.1: a candidate the agent cannot use is ignored, the rest of the
        /// description still applies.
        public var isUnusableCandidate: Bool { self == .unresolvedAddress || self == .unsupportedCandidate }
    }

    public let kind: Kind
    public let line: Int

    public init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }

    public var description: String {
        line > 0 ? "SDP line \(line): \(reasonText)" : "SDP: \(reasonText)"
    }

    /// What is wrong, without the line.
    public var reasonText: String {
        let what: String
        switch kind {
        case .malformedLine: what = "malformed line"
        case .badVersion: what = "missing or unsupported v= line"
        case .badMediaLine: what = "malformed m= line"
        case .badCandidate: what = "malformed a=candidate"
        case .unresolvedAddress: what = "candidate address is not an IP address"
        case .unsupportedCandidate: what = "candidate of an unsupported transport or type"
        case .badCredentials: what = "missing or invalid ice-ufrag/ice-pwd"
        case .tooLarge: what = "description too large"
        }
        return what
    }
}

/// A candidate line that was ignored, and why (for the log).
public struct SkippedCandidate: Equatable, Sendable {
    public let line: Int
    public let reason: SDPError.Kind
    public init(line: Int, reason: SDPError.Kind) {
        self.line = line
        self.reason = reason
    }
}
