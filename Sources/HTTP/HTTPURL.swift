import Common

/// Why an `http://` or `https://` URL was rejected.
public enum HTTPURLError: Error, Equatable, Sendable {
    /// Neither `http://` nor `https://`.
    case notHTTP
    case emptyHost
    /// "[...]" that is not one IPv6 address in one pair of brackets (zone IDs included), or
    /// an IPv6 address without brackets.
    case badIPv6Literal
    /// Digits and dots only, but not a dotted-quad IPv4 address.
    case badIPv4Address
    /// A host name with an empty or over-long label, a character outside letters, digits and
    /// "-._~", or longer than 253 bytes; userinfo ("user@host") included.
    case badHostName
    /// Not 1-5 decimal digits of 1-65535.
    case badPort
    /// A path byte that a request line cannot carry as it is: a control, a blank, "#" or
    /// non-ASCII.
    case badPath

    public var description: String {
        switch self {
        case .notHTTP: return "expected http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]"
        case .emptyHost: return "no host"
        case .badIPv6Literal: return "IPv6 addresses go in one pair of brackets, e.g. http://[2001:db8::1]:8080/whip"
        case .badIPv4Address: return "bad IPv4 address"
        case .badHostName: return "bad host name"
        case .badPort: return "port must be 1-65535"
        case .badPath: return "the path holds a blank, a control character, \"#\" or non-ASCII"
        }
    }
}

/// "http[s]://host[:port][/path]" split into its parts (RFC 3986 §3.2, RFC 9110 §4.2.1,
/// §4.2.2), parsed over the UTF-8 bytes so that no grapheme cluster can merge a delimiter into
/// its neighbour.
///
///     http://192.0.2.1:8080/whip          IPv4 address
///     http://home.example/whip            host name, port 80
///     http://[2001:db8::1]:8080/whip      IPv6 address in brackets
///     https://home.example/whip           over TLS, port 443
///
/// Parsing only: no name is resolved here.
public struct HTTPURL: Equatable, Sendable {
    public enum HostKind: Equatable, Sendable {
        case name, ipv4, ipv6
    }

    /// The host without brackets, ASCII only.
    public var host: String
    public var hostKind: HostKind
    public var port: UInt16
    /// Starts with "/": the request target (origin-form, RFC 9112 §3.2.1).
    public var path: String
    /// `https`: the requests go over TLS and the server's certificate must match `host`
    /// (RFC 9110 §4.2.2, §4.3.4).
    public var secure: Bool

    /// RFC 9110 §4.2.1: the default port of the http scheme.
    public static let defaultPort: UInt16 = 80
    /// RFC 9110 §4.2.2: the default port of the https scheme.
    public static let defaultSecurePort: UInt16 = 443
    /// RFC 1035 §2.3.4: a name holds at most 253 bytes in text and a label at most 63.
    static let maxHostName = 253
    static let maxLabel = 63

    public init?(_ text: String) {
        guard let parsed = try? HTTPURL(parsing: text) else { return nil }
        self = parsed
    }

    public init(parsing text: String) throws(HTTPURLError) {
        let s = Array(text.utf8)
        // RFC 3986 §3.1: the scheme is case-insensitive.
        let secure: Bool
        if Self.hasScheme(s, "http://") {
            secure = false
        } else if Self.hasScheme(s, "https://") {
            secure = true
        } else {
            throw .notHTTP
        }
        let start = secure ? 8 : 7
        var slash = start
        while slash < s.count && s[slash] != 0x2F { slash += 1 }
        try self.init(authority: s[start..<slash], path: s[slash...], secure: secure)
    }

    static func hasScheme(_ s: [UInt8], _ scheme: StaticString) -> Bool {
        let n = scheme.utf8CodeUnitCount
        guard s.count >= n else { return false }
        let p = scheme.utf8Start
        for i in 0..<n where lowercased(s[i]) != p[i] { return false }
        return true
    }

    init(authority a: ArraySlice<UInt8>, path p: ArraySlice<UInt8>, secure: Bool) throws(HTTPURLError) {
        self.secure = secure
        var portStart: Int? = nil
        let hostRange: Range<Int>
        if a.first == 0x5B {  // "["
            // RFC 3986 §3.2.2: IP-literal = "[" IPv6address "]"
            guard let close = a.firstIndex(of: 0x5D) else { throw .badIPv6Literal }
            hostRange = (a.startIndex + 1)..<close
            if close + 1 < a.endIndex {
                guard a[close + 1] == 0x3A else { throw .badIPv6Literal }
                portStart = close + 2
            }
            let literal = a[hostRange]
            guard !literal.isEmpty else { throw .emptyHost }
            let ip = literal.withUnsafeBytes { IPAddress(utf8: $0) }
            guard let ip, !ip.isIPv4 else { throw .badIPv6Literal }
            hostKind = .ipv6
        } else {
            var colon: Int? = nil
            for i in a.indices where a[i] == 0x3A {
                // Two colons: an IPv6 address without its brackets.
                guard colon == nil else { throw .badIPv6Literal }
                colon = i
            }
            hostRange = a.startIndex..<(colon ?? a.endIndex)
            if let colon { portStart = colon + 1 }
            hostKind = try Self.checkHost(a[hostRange])
        }
        host = String(decoding: a[hostRange], as: UTF8.self)
        port = secure ? Self.defaultSecurePort : Self.defaultPort
        if let portStart { port = try Self.parsePort(a[portStart..<a.endIndex]) }
        path = try Self.checkPath(p)
    }

    /// "host:port" or "[v6]:port": the Host header (RFC 9110 §7.2) and the resolver's input.
    public var hostAndPort: String {
        (hostKind == .ipv6 ? "[" + host + "]" : host) + ":" + String(port)
    }

    /// The URL in canonical form: lower-case scheme, explicit port.
    public var description: String { (secure ? "https://" : "http://") + hostAndPort + path }

    /// A host name (RFC 1123 §2.1 labels, with RFC 3986 unreserved "_" and "~") or, when it is
    /// digits and dots only, a dotted-quad IPv4 address (RFC 3986 §3.2.2).
    static func checkHost(_ h: ArraySlice<UInt8>) throws(HTTPURLError) -> HostKind {
        guard !h.isEmpty else { throw .emptyHost }
        guard h.count <= maxHostName else { throw .badHostName }
        var numeric = true, label = 0
        for c in h {
            switch c {
            case 0x2E:  // "."
                guard label > 0 else { throw .badHostName }
                label = 0
                continue
            case 0x30...0x39:
                break
            case 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x7E:
                numeric = false
            default:
                throw .badHostName
            }
            label += 1
            guard label <= maxLabel else { throw .badHostName }
        }
        if numeric {
            guard h.withUnsafeBytes({ IPAddress(utf8: $0) })?.isIPv4 == true else { throw .badIPv4Address }
            return .ipv4
        }
        // A trailing dot (the root) is allowed; an empty label elsewhere was refused above.
        return .name
    }

    /// RFC 3986 §3.2.3 port, limited to 1-65535 (0 is no port to connect to).
    static func parsePort(_ d: ArraySlice<UInt8>) throws(HTTPURLError) -> UInt16 {
        guard !d.isEmpty && d.count <= 5 else { throw .badPort }
        var value = 0
        for c in d {
            guard c >= 0x30 && c <= 0x39 else { throw .badPort }
            value = value * 10 + Int(c - 0x30)
        }
        guard value >= 1 && value <= 65535 else { throw .badPort }
        return UInt16(value)
    }

    /// The path and query as a request target (RFC 9112 §3.2.1): visible ASCII only, since a
    /// blank or line end would split the request line; no fragment (RFC 9110 §7.1: not sent).
    static func checkPath(_ p: ArraySlice<UInt8>) throws(HTTPURLError) -> String {
        if p.isEmpty { return "/" }
        for c in p where c <= 0x20 || c >= 0x7F || c == 0x23 { throw .badPath }
        return String(decoding: p, as: UTF8.self)
    }
}

@inline(__always)
private func lowercased(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }
