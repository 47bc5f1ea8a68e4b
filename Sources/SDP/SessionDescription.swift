import Common
import ICE

/// One m= section (RFC 8866 §5.14) with the ICE attributes of RFC 8839.
public struct MediaDescription: Sendable {
    public var kind: String               // "audio", "video", "application"
    public var port: UInt16
    public var proto: String              // "RTP/AVP", "UDP/TLS/RTP/SAVPF", ...
    public var formats: [String]
    public var connectionAddress: IPAddress?
    public var mid: String?
    public var rtcpMux = false
    /// a=rtpmap lines as "PT encoding/clock[/channels]".
    public var rtpmaps: [String] = []
    /// a=fmtp lines as "PT params".
    public var fmtps: [String] = []
    public var candidates: [Candidate] = []
    /// Host candidates behind mDNS names, to resolve before use (draft-ietf-mmusic-mdns-ice-candidates
    /// §3.2.1); their lines are also in `skippedCandidates`.
    public var hostnameCandidates: [HostnameCandidate] = []
    public var endOfCandidates = false
    public var iceUfrag: String?
    public var icePwd: String?
    /// The other attribute lines, in order (ssrc, extmap, msid...). a=fingerprint, a=setup,
    /// the direction and a=rtcp-fb are kept here too, checked by the parser and read or written
    /// through the typed views `fingerprints`, `setup`, `direction` and `rtcpFeedback`.
    public var otherAttributes: [String] = []

    public init(kind: String, port: UInt16, proto: String = "RTP/AVP", formats: [String]) {
        self.kind = kind
        self.port = port
        self.proto = proto
        self.formats = formats
    }
}

/// A session description: what the ICE agent and the media path need from an offer or answer.
public struct SessionDescription: Sendable {
    public var origin = "- 0 0 IN IP4 0.0.0.0"
    public var sessionName = "-"
    public var connectionAddress: IPAddress?
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceLite = false
    public var iceOptions: [String] = []
    public var media: [MediaDescription] = []
    /// Session-level a= lines this parser does not interpret (group:BUNDLE, msid-semantic...),
    /// kept for the caller and written back by `serialize`; `bundleGroups`, `fingerprints`,
    /// `setup` and `direction` are typed views of some of them.
    public var sessionAttributes: [String] = []
    /// A session-level a=end-of-candidates: no more candidates for any m= section (RFC 8840 §4.1).
    public var endOfCandidates = false
    /// Candidates that parsed but cannot be used here (RFC 8839 §5.1: ignored, not fatal).
    public var skippedCandidates: [SkippedCandidate] = []

    public init() {}

    /// Limits that keep a hostile description from costing unbounded work.
    public static let maxLines = 2000
    public static let maxMedia = 16
    public static let maxCandidates = 128
    /// Longer than any attribute a browser writes (its longest are fmtp and ssrc lines).
    public static let maxLineLength = 4096
    /// Per m= section: a payload type is 0-127 (RFC 3550 §5.1), so 128 of each is every one.
    public static let maxFormats = 128
    public static let maxRtpmaps = 128
    public static let maxFmtps = 128
    /// A browser writes about five per video payload type.
    public static let maxRtcpFeedback = 512
    /// Per level; RFC 8122 §5 allows one per hash function.
    public static let maxFingerprints = 8

    /// The ICE credentials: media-level ones win over session-level (RFC 8839 §5.4).
    public func credentials(media index: Int = 0) -> (ufrag: String, pwd: String)? {
        let m = index < media.count ? media[index] : nil
        guard let u = m?.iceUfrag ?? iceUfrag, let p = m?.icePwd ?? icePwd else { return nil }
        return (u, p)
    }

    /// Parses SDP text (CRLF or LF line ends). Unknown lines and attributes never fail it.
    public static func parse(_ text: String) throws(SDPError) -> SessionDescription {
        var d = SessionDescription()
        var sawVersion = false
        var lineNumber = 0
        var candidateCount = 0
        var counts = AttributeCounts()
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            guard lineNumber <= maxLines else { throw SDPError(.tooLarge, line: lineNumber) }
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard line.utf8.count <= maxLineLength else { throw SDPError(.tooLarge, line: lineNumber) }
            // RFC 8866 §9: no CR inside a line (it would not survive being written back).
            guard !line.utf8.contains(0x0D) else { throw SDPError(.malformedLine, line: lineNumber) }
            guard line.count >= 2, line.dropFirst().first == "=", let type = line.first else {
                throw SDPError(.malformedLine, line: lineNumber)
            }
            let value = line.dropFirst(2)
            if !sawVersion {
                guard type == "v", value == "0" else { throw SDPError(.badVersion, line: lineNumber) }
                sawVersion = true
                continue
            }
            switch type {
            case "o": d.origin = String(value)
            case "s": d.sessionName = String(value)
            case "c":
                let addr = parseConnection(value)
                if d.media.isEmpty { d.connectionAddress = addr } else { d.media[d.media.count - 1].connectionAddress = addr }
            case "m":
                guard d.media.count < maxMedia else { throw SDPError(.tooLarge, line: lineNumber) }
                let f = value.split(separator: " ")
                // "port[/number of ports]" (RFC 8866 §5.14); a bare "/" has no port.
                guard f.count >= 3, let portText = f[1].split(separator: "/", omittingEmptySubsequences: false).first, let port = UInt16(portText) else {
                    throw SDPError(.badMediaLine, line: lineNumber)
                }
                guard f.count - 3 <= maxFormats else { throw SDPError(.tooLarge, line: lineNumber) }
                counts = AttributeCounts()
                d.media.append(MediaDescription(kind: String(f[0]), port: port, proto: String(f[2]),
                                                formats: f.dropFirst(3).map(String.init)))
            case "a":
                try d.attribute(value, line: lineNumber, candidates: &candidateCount, counts: &counts)
            default:
                break  // b=, t=, r=, z=, k=, i=, u=, e=, p=: not needed here
            }
        }
        guard sawVersion else { throw SDPError(.badVersion, line: 0) }
        if d.endOfCandidates { for i in d.media.indices { d.media[i].endOfCandidates = true } }
        return d
    }

    private mutating func attribute(_ a: Substring, line: Int, candidates: inout Int, counts: inout AttributeCounts) throws(SDPError) {
        let name: Substring, value: Substring
        if let colon = a.firstIndex(of: ":") {
            name = a[..<colon]
            value = a[a.index(after: colon)...]
        } else {
            name = a
            value = ""
        }
        let inMedia = !media.isEmpty
        let last = media.count - 1
        switch name {
        case "ice-ufrag":
            // RFC 8839 §5.4: 4..256 ice-chars.
            guard (4...256).contains(value.utf8.count) else { throw SDPError(.badCredentials, line: line) }
            if inMedia { media[last].iceUfrag = String(value) } else { iceUfrag = String(value) }
        case "ice-pwd":
            // RFC 8839 §5.4: 22..256 ice-chars.
            guard (22...256).contains(value.utf8.count) else { throw SDPError(.badCredentials, line: line) }
            if inMedia { media[last].icePwd = String(value) } else { icePwd = String(value) }
        case "ice-lite":
            iceLite = true
        case "ice-options":
            iceOptions += value.split(separator: " ").map(String.init)
        case "candidate":
            guard inMedia else { sessionAttributes.append(String(a)); return }
            candidates += 1
            guard candidates <= Self.maxCandidates else { throw SDPError(.tooLarge, line: line) }
            switch CandidateLine.parseUsableOrHostname(value, line: line) {
            case .success(.address(let c)): media[last].candidates.append(c)
            case .success(.hostname(let h)):
                media[last].hostnameCandidates.append(h)
                skippedCandidates.append(SkippedCandidate(line: line, reason: .unresolvedAddress))
            case .failure(let e) where e.kind.isUnusableCandidate:
                skippedCandidates.append(SkippedCandidate(line: line, reason: e.kind))
            case .failure(let e): throw e
            }
        case "end-of-candidates":
            if inMedia { media[last].endOfCandidates = true } else { endOfCandidates = true }
        case "mid" where inMedia: media[last].mid = String(value)
        case "rtcp-mux" where inMedia: media[last].rtcpMux = true
        case "rtpmap" where inMedia:
            guard media[last].rtpmaps.count < Self.maxRtpmaps else { throw SDPError(.tooLarge, line: line) }
            guard RTPMap(value) != nil else { throw SDPError(.badRtpmap, line: line) }
            media[last].rtpmaps.append(String(value))
        case "fmtp" where inMedia:
            guard media[last].fmtps.count < Self.maxFmtps else { throw SDPError(.tooLarge, line: line) }
            guard FormatParameters(value) != nil else { throw SDPError(.badFmtp, line: line) }
            media[last].fmtps.append(String(value))
        default:
            try Self.check(name: name, value: value, line: line, counts: &counts)
            if inMedia { media[last].otherAttributes.append(String(a)) } else { sessionAttributes.append(String(a)) }
        }
    }

    private static func parseConnection(_ value: Substring) -> IPAddress? {
        // "IN IP4 192.0.2.1" (a multicast "/ttl" suffix is dropped).
        let f = value.split(separator: " ")
        guard f.count >= 3, let address = f[2].split(separator: "/", omittingEmptySubsequences: false).first else { return nil }
        return IPAddress(String(address))
    }

    /// SDP text with CRLF line ends (RFC 8866 §5).
    public func serialize() -> String {
        var out = "v=0\r\no=\(origin)\r\ns=\(sessionName)\r\n"
        if let c = connectionAddress { out += "c=IN \(c.isIPv4 ? "IP4" : "IP6") \(c)\r\n" }
        out += "t=0 0\r\n"
        if iceLite { out += "a=ice-lite\r\n" }
        if !iceOptions.isEmpty { out += "a=ice-options:" + iceOptions.joined(separator: " ") + "\r\n" }
        if let u = iceUfrag { out += "a=ice-ufrag:\(u)\r\n" }
        if let p = icePwd { out += "a=ice-pwd:\(p)\r\n" }
        for a in sessionAttributes { out += "a=\(a)\r\n" }
        if endOfCandidates { out += "a=end-of-candidates\r\n" }
        for m in media {
            out += "m=\(m.kind) \(m.port) \(m.proto) " + m.formats.joined(separator: " ") + "\r\n"
            if let c = m.connectionAddress { out += "c=IN \(c.isIPv4 ? "IP4" : "IP6") \(c)\r\n" }
            if let mid = m.mid { out += "a=mid:\(mid)\r\n" }
            if let u = m.iceUfrag { out += "a=ice-ufrag:\(u)\r\n" }
            if let p = m.icePwd { out += "a=ice-pwd:\(p)\r\n" }
            if m.rtcpMux { out += "a=rtcp-mux\r\n" }
            for r in m.rtpmaps { out += "a=rtpmap:\(r)\r\n" }
            for f in m.fmtps { out += "a=fmtp:\(f)\r\n" }
            for a in m.otherAttributes { out += "a=\(a)\r\n" }
            for c in m.candidates { out += "a=" + CandidateLine.format(c) + "\r\n" }
            if m.endOfCandidates { out += "a=end-of-candidates\r\n" }
        }
        return out
    }
}
