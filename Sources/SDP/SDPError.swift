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
        /// More than the parser's fixed limits (lines, line length, media sections, candidates,
        /// formats, rtpmap/fmtp/rtcp-fb lines, fingerprints, BUNDLE mids).
        case tooLarge
        /// An a=rtpmap that is not "PT encoding/clock[/channels]" (RFC 8866 §6.6).
        case badRtpmap
        /// An a=fmtp that is not "format parameters" (RFC 8866 §6.15).
        case badFmtp
        /// An a=rtcp-fb that is not "PT|* type [parameter]" (RFC 4585 §4.2).
        case badRtcpFeedback
        /// An a=fingerprint that is not "hash-func fingerprint" (RFC 8122 §5).
        case badFingerprint
        /// An a=setup value that is not actpass/active/passive/holdconn, a second one in the
        /// same section (RFC 4145 §4), or one the offer/answer exchange does not allow
        /// (missing, or actpass/holdconn in an answer: RFC 8842 §5.3).
        case badSetup
        /// Two direction attributes in one section (RFC 8866 §6.7: at most one).
        case badDirection
        /// An a=group without semantics (RFC 5888 §5).
        case badGroup
        /// DTLS-SRTP is required and the description carries no a=fingerprint (RFC 8122 §5,
        /// RFC 5763 §5).
        case missingFingerprint
        /// A plain RTP offer (RTP/AVP, RTP/AVPF) while DTLS-SRTP is required: a legacy peer
        /// (RFC 8829 §5.1.3).
        case insecureOffer
        /// A DTLS-SRTP offer while this agent is configured without it.
        case encryptionUnavailable
        /// Secure and plain RTP sections in one description, which one transport cannot carry
        /// (RFC 8843 §6).
        case mixedProtocols
        /// No RTP section in a transport protocol this agent knows (RFC 8829 §5.1.3).
        case unsupportedProtocol
        /// No offered section matches a local track (kind, codec, transport).
        case noAcceptableMedia
        /// An answer whose sections do not mirror the offer (count, order, kind, mid; RFC 3264 §6).
        case answerMismatch
        /// A local media plan that cannot be signaled (no track, too many, a payload type
        /// outside 0-127 or used twice).
        case invalidPlan

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
        case .badRtpmap: what = "malformed a=rtpmap"
        case .badFmtp: what = "malformed a=fmtp"
        case .badRtcpFeedback: what = "malformed a=rtcp-fb"
        case .badFingerprint: what = "malformed a=fingerprint"
        case .badSetup: what = "missing, invalid or repeated a=setup"
        case .badDirection: what = "more than one direction attribute"
        case .badGroup: what = "malformed a=group"
        case .missingFingerprint: what = "no a=fingerprint, DTLS-SRTP is required"
        case .insecureOffer: what = "plain RTP offer (no DTLS-SRTP) while encryption is required"
        case .encryptionUnavailable: what = "DTLS-SRTP offer while encryption is configured off"
        case .mixedProtocols: what = "secure and plain RTP sections in one description"
        case .unsupportedProtocol: what = "no section in a supported transport protocol"
        case .noAcceptableMedia: what = "no offered section matches a local track and codec"
        case .answerMismatch: what = "answer does not mirror the offer's sections"
        case .invalidPlan: what = "invalid local media plan"
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
