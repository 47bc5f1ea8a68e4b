import Common
import ICE

// RFC 8839 §5.1:
//   candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority
//                         SP connection-address SP port SP cand-type [SP rel-addr]
//                         [SP rel-port] *(SP cand-extension)
// Extensions (tcptype, generation, ufrag, network-id, network-cost...) are accepted and ignored.

public enum CandidateLine {
    /// Parses the value after "a=" (with or without the "candidate:" prefix). A candidate
    /// whose address is a name, mDNS or not, is `.unresolvedAddress`.
    public static func parse(_ text: Substring, line: Int = 0) throws(SDPError) -> Candidate {
        switch try parseAny(text, line: line) {
        case .address(let c): return c
        case .hostname: throw SDPError(.unresolvedAddress, line: line)
        }
    }

    /// `parse`, except that a host candidate whose address is an mDNS name
    /// (draft-ietf-mmusic-mdns-ice-candidates §3.1.1) is returned as `.hostname` for the
    /// caller to resolve. Other names stay `.unresolvedAddress`.
    public static func parseAny(_ text: Substring, line: Int = 0) throws(SDPError) -> ParsedCandidate {
        var value = text
        if value.hasPrefix("a=") { value = value.dropFirst(2) }
        if value.hasPrefix("candidate:") { value = value.dropFirst("candidate:".count) }
        let f = value.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count >= 8, f[6] == "typ" || f[6].asciiLowercased() == "typ" else { throw SDPError(.badCandidate, line: line) }
        let foundation = f[0]
        // RFC 8839 §5.1: foundation = 1*32 ice-char (ALPHA / DIGIT / "+" / "/").
        guard !foundation.isEmpty, foundation.utf8.count <= 32, foundation.utf8.allSatisfy(isICEChar),
              let component = UInt8(f[1]), component >= 1,
              let priority = UInt32(f[3]), let port = UInt16(f[5])
        else { throw SDPError(.badCandidate, line: line) }
        let transport: TransportProtocol
        switch f[2].asciiLowercased() {
        case "udp": transport = .udp
        case "tcp": transport = .tcp
        default: throw SDPError(.unsupportedCandidate, line: line)  // e.g. RFC 6544 ssltcp, sctp
        }
        let ip = IPAddress(String(f[4]))
        // Only host candidates are hidden behind mDNS names (draft-ietf-mmusic-mdns-ice-candidates
        // §3.1.1); a name elsewhere is as unresolvable as any other.
        let mdnsName = ip == nil && f[7] == "host" ? HostnameCandidate.mdnsName(f[4]) : nil
        guard ip != nil || mdnsName != nil else { throw SDPError(.unresolvedAddress, line: line) }
        let type: CandidateType
        switch f[7] {
        case "host": type = .host
        case "srflx": type = .serverReflexive
        case "prflx": type = .peerReflexive
        case "relay": type = .relayed
        default: throw SDPError(.unsupportedCandidate, line: line)
        }
        var related: TransportAddress? = nil
        var i = 8
        var raddr: IPAddress? = nil
        while i + 1 < f.count {
            switch f[i] {
            case "raddr": raddr = IPAddress(String(f[i + 1]))
            case "rport":
                if let r = raddr, let p = UInt16(f[i + 1]) { related = TransportAddress(r, p) }
            default: break  // unknown extension: name value, ignored (RFC 8839 §5.1)
            }
            i += 2
        }
        var fbytes = Array(foundation.utf8)
        let fnd = fbytes.withUnsafeMutableBytes { Foundation(utf8: UnsafeRawBufferPointer($0)) }
        let candidate = Candidate(type: type, component: component, transport: transport, priority: priority,
                                  foundation: fnd, address: TransportAddress(ip ?? .v4Any, port), base: nil,
                                  relatedAddress: related)
        if let mdnsName {
            return .hostname(HostnameCandidate(name: mdnsName, line: line, template: candidate))
        }
        return .address(candidate)
    }

    /// `parse` as a value, for callers that skip unusable candidates instead of failing.
    public static func parseUsable(_ text: Substring, line: Int) -> Result<Candidate, SDPError> {
        do throws(SDPError) {
            return .success(try parse(text, line: line))
        } catch {
            return .failure(error)
        }
    }

    /// `parseAny` as a value, for callers that skip unusable candidates instead of failing.
    public static func parseUsableOrHostname(_ text: Substring, line: Int) -> Result<ParsedCandidate, SDPError> {
        do throws(SDPError) {
            return .success(try parseAny(text, line: line))
        } catch {
            return .failure(error)
        }
    }

    /// "candidate:<foundation> <component> UDP <priority> <ip> <port> typ <type> [raddr <ip> rport <port>]"
    public static func format(_ c: Candidate) -> String {
        var s = "candidate:\(c.foundation) \(c.component) \(c.transport == .udp ? "UDP" : "TCP") \(c.priority) "
        s += "\(c.address.ip) \(c.address.port) typ \(c.type.sdpName.description)"
        if let r = c.relatedAddress, c.type != .host {
            s += " raddr \(r.ip) rport \(r.port)"
        } else if c.type != .host {
            // RFC 8839 §5.1: rel-addr is mandatory for non-host types; 0.0.0.0 0 hides it.
            s += c.address.ip.isIPv4 ? " raddr 0.0.0.0 rport 0" : " raddr :: rport 0"
        }
        if c.transport == .tcp { s += " tcptype passive" }
        return s
    }
}

extension CandidateLine {
    /// The line as signaled, with the name as its connection-address.
    public static func format(_ h: HostnameCandidate) -> String {
        let c = h.template
        var s = "candidate:\(c.foundation) \(c.component) \(c.transport == .udp ? "UDP" : "TCP") \(c.priority) "
        s += "\(h.name) \(c.address.port) typ host"
        if c.transport == .tcp { s += " tcptype passive" }
        return s
    }
}

/// RFC 8839 §5.1 ice-char.
func isICEChar(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2F
}
