import Common

/// a=setup (RFC 4145 §4, RFC 8842 §5): which side opens the DTLS association.
public enum DTLSSetup: String, Equatable, Sendable {
    case actpass, active, passive, holdconn
}

/// The direction attributes (RFC 8866 §6.7), from the point of view of the description's writer.
public enum MediaDirection: String, Equatable, Sendable {
    case sendrecv, sendonly, recvonly, inactive

    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }
    /// The same stream seen from the other side.
    public var reversed: MediaDirection { MediaDirection(sends: receives, receives: sends) }
}

/// "PT encoding/clock[/channels]", the value of a=rtpmap (RFC 8866 §6.6).
public struct RTPMap: Equatable, Sendable {
    public var payloadType: UInt8
    public var encoding: String
    public var clockRate: UInt32
    public var channels: UInt8?

    public init(payloadType: UInt8, encoding: String, clockRate: UInt32, channels: UInt8? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
    }

    public init?(_ value: Substring) {
        let f = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard f.count == 2, let pt = payloadTypeNumber(f[0]) else { return nil }
        let e = f[1].split(separator: "/", omittingEmptySubsequences: false)
        guard (2...3).contains(e.count), !e[0].isEmpty, e[0].utf8.count <= 64,
              e[0].utf8.allSatisfy(isTokenByte),
              let clock = UInt32(e[1]), clock > 0 else { return nil }
        var channels: UInt8? = nil
        if e.count == 3 {
            guard let c = UInt8(e[2]), c > 0 else { return nil }
            channels = c
        }
        self.init(payloadType: pt, encoding: String(e[0]), clockRate: clock, channels: channels)
    }

    public var value: String {
        "\(payloadType) \(encoding)/\(clockRate)" + (channels.map { "/\($0)" } ?? "")
    }
}

/// "format parameters", the value of a=fmtp (RFC 8866 §6.15), with the "name=value;..."
/// parameters of RTP payload formats (e.g. RFC 6184 §8.1).
public struct FormatParameters: Equatable, Sendable {
    public var format: String
    public var parameters: String

    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }

    public init?(_ value: Substring) {
        let f = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard f.count == 2, f[0].utf8.count <= 32, f[0].utf8.allSatisfy(isTokenByte) else { return nil }
        self.init(format: String(f[0]), parameters: String(f[1]))
    }

    /// The value of parameter `name` (names compare case-insensitively, RFC 6184 §8.1).
    public func parameter(_ name: String) -> Substring? {
        for p in parameters.split(separator: ";") {
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { continue }
            if trimmed(kv[0]).asciiLowercased() == name { return trimmed(kv[1]) }
        }
        return nil
    }

    public var value: String { "\(format) \(parameters)" }
}

/// "PT|* type [parameter]", the value of a=rtcp-fb (RFC 4585 §4.2).
public struct RTCPFeedback: Equatable, Sendable {
    /// nil for "*": every payload type of the section.
    public var payloadType: UInt8?
    /// "nack", "nack pli", "ccm fir", "goog-remb"...
    public var feedback: String

    public init(payloadType: UInt8?, feedback: String) {
        self.payloadType = payloadType
        self.feedback = feedback
    }

    public init?(_ value: Substring) {
        let f = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard f.count == 2 else { return nil }
        if f[0] == "*" {
            payloadType = nil
        } else {
            guard let pt = payloadTypeNumber(f[0]) else { return nil }
            payloadType = pt
        }
        let words = f[1].split(separator: " ")
        guard !words.isEmpty else { return nil }
        feedback = words.joined(separator: " ")
    }

    public var value: String { (payloadType.map { "\($0)" } ?? "*") + " " + feedback }
}

/// Counts per level (session, or the current m= section) that bound what a description can repeat.
struct AttributeCounts {
    var rtcpFeedback = 0
    var fingerprints = 0
    var setup = false
    var direction = false
}

extension SessionDescription {
    /// Checks the attributes kept in the attribute lists that the typed views interpret.
    static func check(name: Substring, value: Substring, line: Int, counts: inout AttributeCounts) throws(SDPError) {
        switch name {
        case "rtcp-fb":
            counts.rtcpFeedback += 1
            guard counts.rtcpFeedback <= maxRtcpFeedback else { throw SDPError(.tooLarge, line: line) }
            guard RTCPFeedback(value) != nil else { throw SDPError(.badRtcpFeedback, line: line) }
        case "fingerprint":
            counts.fingerprints += 1
            guard counts.fingerprints <= maxFingerprints else { throw SDPError(.tooLarge, line: line) }
            guard isFingerprintValue(value) else { throw SDPError(.badFingerprint, line: line) }
        case "setup":
            guard !counts.setup, DTLSSetup(rawValue: String(value)) != nil else { throw SDPError(.badSetup, line: line) }
            counts.setup = true
        case "sendrecv", "sendonly", "recvonly", "inactive":
            guard !counts.direction else { throw SDPError(.badDirection, line: line) }
            counts.direction = true
        case "group":
            let f = value.split(separator: " ")
            guard let semantics = f.first else { throw SDPError(.badGroup, line: line) }
            guard semantics != "BUNDLE" || f.count - 1 <= maxMedia else { throw SDPError(.tooLarge, line: line) }
        default:
            break
        }
    }

    /// RFC 8122 §5: hash-func SP 2UHEX *(":" 2UHEX); any hash token, lower case accepted.
    static func isFingerprintValue(_ value: Substring) -> Bool {
        let f = value.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count == 2, f[0].utf8.count <= 16, f[0].utf8.allSatisfy(isTokenByte) else { return false }
        let hex = f[1].utf8
        guard hex.count >= 2, hex.count <= 3 * 64 - 1, hex.count % 3 == 2 else { return false }
        var i = 0
        for b in hex {
            if i % 3 == 2 {
                guard b == 0x3A else { return false }
            } else {
                guard isHexByte(b) else { return false }
            }
            i += 1
        }
        return true
    }
}

// MARK: Typed views of the attribute lists

extension MediaDescription {
    /// The a=fingerprint values of this section ("sha-256 AB:CD:...").
    public var fingerprints: [String] {
        get { values(otherAttributes, "fingerprint:") }
        set { replace(&otherAttributes, "fingerprint:", newValue) }
    }

    /// This section's a=setup, if any.
    public var setup: DTLSSetup? {
        get { values(otherAttributes, "setup:").first.flatMap { DTLSSetup(rawValue: $0) } }
        set { replace(&otherAttributes, "setup:", newValue.map { [$0.rawValue] } ?? []) }
    }

    /// This section's own direction attribute, if any.
    public var explicitDirection: MediaDirection? {
        get { directionAttribute(otherAttributes) }
        set { setDirection(&otherAttributes, newValue) }
    }

    /// The direction; sendrecv when absent (RFC 8866 §6.7). A session-level one is in
    /// `SessionDescription.direction(media:)`.
    public var direction: MediaDirection {
        get { explicitDirection ?? .sendrecv }
        set { explicitDirection = newValue }
    }

    /// The a=rtcp-fb values ("96 nack pli").
    public var rtcpFeedback: [String] {
        get { values(otherAttributes, "rtcp-fb:") }
        set { replace(&otherAttributes, "rtcp-fb:", newValue) }
    }

    /// a=bundle-only (RFC 8843 §6): port 0 in an offer that still asks for the section.
    public var bundleOnly: Bool { otherAttributes.contains("bundle-only") }
}

extension SessionDescription {
    /// The mids of each a=group:BUNDLE (RFC 8843 §7.1).
    public var bundleGroups: [[String]] {
        get {
            var groups: [[String]] = []
            for a in sessionAttributes where a.hasPrefix("group:BUNDLE") {
                let f = a.dropFirst("group:".count).split(separator: " ")
                guard f.first == "BUNDLE" else { continue }
                groups.append(f.dropFirst().map(String.init))
            }
            return groups
        }
        set {
            sessionAttributes.removeAll { $0.hasPrefix("group:BUNDLE ") || $0 == "group:BUNDLE" }
            for g in newValue { sessionAttributes.append((["group:BUNDLE"] + g).joined(separator: " ")) }
        }
    }

    /// Session-level a=fingerprint values.
    public var fingerprints: [String] {
        get { values(sessionAttributes, "fingerprint:") }
        set { replace(&sessionAttributes, "fingerprint:", newValue) }
    }

    /// Session-level a=setup.
    public var setup: DTLSSetup? {
        get { values(sessionAttributes, "setup:").first.flatMap { DTLSSetup(rawValue: $0) } }
        set { replace(&sessionAttributes, "setup:", newValue.map { [$0.rawValue] } ?? []) }
    }

    /// Session-level direction attribute, the default of every section (RFC 8866 §6.7).
    public var direction: MediaDirection? {
        get { directionAttribute(sessionAttributes) }
        set { setDirection(&sessionAttributes, newValue) }
    }

    /// The fingerprints that apply to section `index`: its own, else the session's (RFC 8122 §5).
    public func fingerprints(media index: Int) -> [String] {
        let own = index < media.count ? media[index].fingerprints : []
        return own.isEmpty ? fingerprints : own
    }

    /// The a=setup that applies to section `index`: its own, else the session's.
    public func setup(media index: Int) -> DTLSSetup? {
        (index < media.count ? media[index].setup : nil) ?? setup
    }

    /// The direction of section `index`: its own, else the session's, else sendrecv.
    public func direction(media index: Int) -> MediaDirection {
        (index < media.count ? media[index].explicitDirection : nil) ?? direction ?? .sendrecv
    }
}

private func values(_ list: [String], _ prefix: String) -> [String] {
    var out: [String] = []
    for a in list where a.hasPrefix(prefix) { out.append(String(a.dropFirst(prefix.count))) }
    return out
}

private func replace(_ list: inout [String], _ prefix: String, _ newValues: [String]) {
    list.removeAll { $0.hasPrefix(prefix) }
    for v in newValues { list.append(prefix + v) }
}

private func directionAttribute(_ list: [String]) -> MediaDirection? {
    for a in list { if let d = MediaDirection(rawValue: a) { return d } }
    return nil
}

private func setDirection(_ list: inout [String], _ d: MediaDirection?) {
    list.removeAll { MediaDirection(rawValue: $0) != nil }
    if let d { list.append(d.rawValue) }
}

/// A payload type: 0-127 in decimal (RFC 3550 §5.1, 7 bits), without leading zeros so that
/// it names one format token (RFC 8866 §5.14).
func payloadTypeNumber(_ s: Substring) -> UInt8? {
    guard !s.isEmpty, s.utf8.count <= 3, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
          s == "0" || s.first != "0",
          let n = UInt8(s), n <= 127 else { return nil }
    return n
}

/// RFC 8866 §9 token characters.
func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: return true
    default: return false
    }
}

func isHexByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
}

func trimmed(_ s: Substring) -> Substring {
    var t = s
    while t.first == " " { t = t.dropFirst() }
    while t.last == " " { t = t.dropLast() }
    return t
}
