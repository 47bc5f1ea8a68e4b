import Common
import ICE

/// A host candidate whose connection-address is an mDNS name, as browsers send them to hide
/// their addresses (draft-ietf-mmusic-mdns-ice-candidates §3.1.1: "<uuid>.local"; RFC 8839
/// §5.1 allows an FQDN there). It becomes a `Candidate` once the name resolves (§3.2.1).
public struct HostnameCandidate: Sendable {
    /// The name, lowercased (RFC 6762 §16: names compare case-insensitively), e.g.
    /// "9b36eaac-bb2e-49bb-bb78-21c41c499900.local".
    public let name: String
    /// The line it came from (1-based), also listed in `skippedCandidates` since it cannot be
    /// used until it resolves.
    public let line: Int
    /// Everything but the address; its address is 0.0.0.0 and the signaled port.
    let template: Candidate

    init(name: String, line: Int, template: Candidate) {
        self.name = name
        self.line = line
        self.template = template
    }

    public var port: UInt16 { template.address.port }
    public var component: UInt8 { template.component }
    public var transport: TransportProtocol { template.transport }
    public var priority: UInt32 { template.priority }
    public var foundation: Foundation { template.foundation }

    /// The candidate at a resolved address (draft-ietf-mmusic-mdns-ice-candidates §3.2.1:
    /// the resolved address replaces the name, the rest is the signaled candidate's).
    public func resolved(to ip: IPAddress) -> Candidate {
        var c = template
        c.address = TransportAddress(ip, template.address.port)
        c.base = c.address
        return c
    }

    /// The longest single label (RFC 1035 §2.3.4); a UUID is 36.
    public static let maxLabelLength = 63

    /// The lowercased name if `text` is one label of letters, digits and hyphens (neither
    /// first nor last a hyphen, RFC 1035 §2.3.1) followed by ".local" (RFC 6762 §3), else nil.
    /// Other names (several labels, other domains) are not resolved by mDNS here.
    public static func mdnsName(_ text: Substring) -> String? {
        let suffix = Array(".local".utf8)
        let bytes = Array(text.utf8)
        let labelCount = bytes.count - suffix.count
        guard labelCount >= 1, labelCount <= maxLabelLength else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (i, b) in bytes.enumerated() {
            let lower = b.asciiLowercased
            if i < labelCount {
                let alnum = (lower >= 0x61 && lower <= 0x7A) || (lower >= 0x30 && lower <= 0x39)
                let hyphen = lower == 0x2D && i != 0 && i != labelCount - 1
                guard alnum || hyphen else { return nil }
            } else {
                guard lower == suffix[i - labelCount] else { return nil }
            }
            out.append(lower)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A candidate line's meaning: a candidate at an IP address, or a host candidate behind an
/// mDNS name.
public enum ParsedCandidate: Sendable {
    case address(Candidate)
    case hostname(HostnameCandidate)
}
