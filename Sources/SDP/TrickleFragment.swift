import ICE

/// An RFC 8840 trickle fragment (application/trickle-ice-sdpfrag): credentials, the m=
/// line and mid it belongs to, new candidates, and maybe end-of-candidates. The stdio
/// signaling uses the same candidate and end-of-candidates lines, one per line.
public struct TrickleFragment: Sendable {
    public var iceUfrag: String?
    public var icePwd: String?
    public var mid: String?
    public var candidates: [Candidate] = []
    /// Host candidates behind mDNS names, to resolve before use (draft-ietf-mmusic-mdns-ice-candidates
    /// §3.2.1); their lines are also in `skippedCandidates`.
    public var hostnameCandidates: [HostnameCandidate] = []
    public var endOfCandidates = false
    /// Candidates that parsed but cannot be used here (RFC 8839 §5.1: ignored, not fatal).
    public var skippedCandidates: [SkippedCandidate] = []

    public init() {}

    public static func parse(_ text: String) throws(SDPError) -> TrickleFragment {
        var f = TrickleFragment()
        var lineNumber = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            guard lineNumber <= SessionDescription.maxLines else { throw SDPError(.tooLarge, line: lineNumber) }
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            if line.hasPrefix("a=candidate:") {
                guard f.candidates.count + f.skippedCandidates.count < SessionDescription.maxCandidates else {
                    throw SDPError(.tooLarge, line: lineNumber)
                }
                switch CandidateLine.parseUsableOrHostname(line, line: lineNumber) {
                case .success(.address(let c)): f.candidates.append(c)
                case .success(.hostname(let h)):
                    f.hostnameCandidates.append(h)
                    f.skippedCandidates.append(SkippedCandidate(line: lineNumber, reason: .unresolvedAddress))
                case .failure(let e) where e.kind.isUnusableCandidate:
                    f.skippedCandidates.append(SkippedCandidate(line: lineNumber, reason: e.kind))
                case .failure(let e): throw e
                }
            } else if line == "a=end-of-candidates" {
                f.endOfCandidates = true
            } else if line.hasPrefix("a=ice-ufrag:") {
                f.iceUfrag = String(line.dropFirst("a=ice-ufrag:".count))
            } else if line.hasPrefix("a=ice-pwd:") {
                f.icePwd = String(line.dropFirst("a=ice-pwd:".count))
            } else if line.hasPrefix("a=mid:") {
                f.mid = String(line.dropFirst("a=mid:".count))
            } else if line.count < 2 || line.dropFirst().first != "=" {
                throw SDPError(.malformedLine, line: lineNumber)
            }
            // m= and other attribute lines carry nothing the agent needs.
        }
        return f
    }

    public func serialize(mediaLine: String = "m=audio 9 RTP/AVP 0") -> String {
        var out = ""
        if let u = iceUfrag { out += "a=ice-ufrag:\(u)\r\n" }
        if let p = icePwd { out += "a=ice-pwd:\(p)\r\n" }
        out += mediaLine + "\r\n"
        if let mid { out += "a=mid:\(mid)\r\n" }
        for c in candidates { out += "a=" + CandidateLine.format(c) + "\r\n" }
        if endOfCandidates { out += "a=end-of-candidates\r\n" }
        return out
    }
}
