import Common

/// Why a STUN/TURN URI (RFC 7064, RFC 7065) was rejected.
public enum TURNURIError: Error, Equatable, Sendable {
    /// Neither `stun:`, `stuns:`, `turn:` nor `turns:` (and no default scheme was allowed).
    case unknownScheme
    case emptyHost
    /// A host with characters a reg-name or IPv4 address cannot hold.
    case badHost
    /// "[...]" that is not an IPv6 address, or an IPv6 address without brackets.
    case badIPv6Literal
    case badPort
    /// `?transport=` other than udp or tcp.
    case unknownTransport(String)
    /// A query other than `transport=...`, or any query on a stun/stuns URI.
    case badQuery
    /// `turns:...?transport=udp` is TURN over DTLS, which this client does not implement.
    case dtlsNotSupported

    public var description: String {
        switch self {
        case .unknownScheme: return "expected stun:, stuns:, turn: or turns:"
        case .emptyHost: return "no host"
        case .badHost: return "bad host name"
        case .badIPv6Literal: return "IPv6 addresses go in brackets, e.g. turn:[2001:db8::1]:3478"
        case .badPort: return "port must be 1-65535"
        case .unknownTransport(let t): return "unknown transport \"" + t + "\" (udp or tcp)"
        case .badQuery: return "the only query is ?transport=udp|tcp (turn:, turns:)"
        case .dtlsNotSupported: return "turns: with transport=udp is TURN over DTLS, which is not supported (use turns: over TCP)"
        }
    }
}

/// A STUN or TURN server URI: RFC 7064 `stun:host[:port]`, `stuns:host[:port]` and RFC 7065
/// `turn:host[:port][?transport=udp|tcp]`, `turns:host[:port][?transport=tcp]`.
///
///     turn:turn.example.org                   UDP to port 3478
///     turn:192.0.2.10:3479?transport=tcp      TCP
///     turns:turn.example.org                  TLS over TCP to port 5349 (SNI turn.example.org)
///     turn:[2001:db8::1]?transport=udp        IPv6 literal in brackets
///
/// Schemes and the transport value are case-insensitive; the default port is 3478, or 5349
/// for the secure schemes. Parsing only: no name is resolved here.
public struct TURNServerURI: Equatable, Sendable {
    public enum Scheme: Equatable, Sendable {
        case stun, stuns, turn, turns

        public var name: StaticString {
            switch self {
            case .stun: return "stun"
            case .stuns: return "stuns"
            case .turn: return "turn"
            case .turns: return "turns"
            }
        }

        public var isSecure: Bool { self == .stuns || self == .turns }
        public var defaultPort: UInt16 { isSecure ? 5349 : 3478 }
    }

    public var scheme: Scheme
    /// The host without brackets: a DNS name or an IP literal.
    public var host: String
    public var port: UInt16
    /// How the server is reached: `.tls` for the secure schemes.
    public var transport: TURNTransport
    /// The host is an IPv4 or IPv6 literal (not sent as TLS SNI, RFC 6066 §3).
    public var hostIsIPLiteral: Bool

    public init(scheme: Scheme, host: String, port: UInt16, transport: TURNTransport, hostIsIPLiteral: Bool) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.transport = transport
        self.hostIsIPLiteral = hostIsIPLiteral
    }

    /// "host:port" or "[v6]:port", for a resolver.
    public var hostAndPort: String {
        (host.contains(":") ? "[" + host + "]" : host) + ":" + String(port)
    }

    /// The canonical form, e.g. "turn:192.0.2.1:3478?transport=tcp".
    public var description: String {
        var s = scheme.name.description + ":" + hostAndPort
        switch (scheme, transport) {
        case (.turn, .tcp): s += "?transport=tcp"
        case (.turn, _): s += "?transport=udp"
        default: break
        }
        return s
    }

    /// Parses `text`. With `defaultScheme`, text without a scheme ("host:port") is accepted
    /// as that scheme.
    public static func parse(_ text: String, defaultScheme: Scheme? = nil) throws(TURNURIError) -> TURNServerURI {
        var rest = Substring(text)
        let scheme: Scheme
        if let colon = rest.firstIndex(of: ":"), let s = schemeNamed(rest[..<colon]) {
            scheme = s
            rest = rest[rest.index(after: colon)...]
        } else if let defaultScheme {
            scheme = defaultScheme
        } else {
            throw .unknownScheme
        }
        // RFC 7064/7065 URIs have no authority: "turn://host" is not one.
        if rest.hasPrefix("//") { throw .badHost }

        var transport: TURNTransport = scheme.isSecure ? .tls : .udp
        if let q = rest.firstIndex(of: "?") {
            transport = try parseTransport(query: rest[rest.index(after: q)...], scheme: scheme)
            rest = rest[..<q]
        }
        let (host, portText, literal) = try splitHostAndPort(rest)
        var port = scheme.defaultPort
        if let portText { port = try parsePort(portText) }
        return TURNServerURI(scheme: scheme, host: String(host), port: port, transport: transport, hostIsIPLiteral: literal)
    }

    /// RFC 7065 §3: `?transport=udp|tcp`, turn: and turns: only; turns: over UDP would be DTLS.
    static func parseTransport(query: Substring, scheme: Scheme) throws(TURNURIError) -> TURNTransport {
        guard scheme == .turn || scheme == .turns else { throw .badQuery }
        let prefix = "transport="
        guard asciiLowercased(query).hasPrefix(prefix) else { throw .badQuery }
        let value = asciiLowercased(query.dropFirst(prefix.count))
        switch value {
        case "udp":
            if scheme == .turns { throw .dtlsNotSupported }
            return .udp
        case "tcp":
            return scheme == .turns ? .tls : .tcp
        default:
            throw .unknownTransport(String(query.dropFirst(prefix.count)))
        }
    }

    /// RFC 7064 §3.1 host (IP-literal in brackets, IPv4address or reg-name) and the optional
    /// port text after its ":"; `literal` when the host is an IP address.
    static func splitHostAndPort(_ rest: Substring) throws(TURNURIError) -> (host: Substring, port: Substring?, literal: Bool) {
        var host: Substring
        var portText: Substring? = nil
        var literal = false
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .badIPv6Literal }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badIPv6Literal }
                portText = after.dropFirst()
            }
            guard let ip = IPAddress(String(host)), !ip.isIPv4 else { throw .badIPv6Literal }
            literal = true
        } else {
            var colons = 0
            for ch in rest.utf8 where ch == 0x3A { colons += 1 }
            if colons > 1 { throw .badIPv6Literal }
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            guard !host.isEmpty else { throw .emptyHost }
            // RFC 1035 §2.3.4: 253 characters at most (mbedTLS refuses longer SNI names).
            guard host.utf8.count <= 253 else { throw .badHost }
            for ch in host.utf8 {
                let ok = (ch >= 0x61 && ch <= 0x7A) || (ch >= 0x41 && ch <= 0x5A) || (ch >= 0x30 && ch <= 0x39)
                    || ch == 0x2D || ch == 0x2E || ch == 0x5F || ch == 0x7E
                guard ok else { throw .badHost }
            }
            literal = IPAddress(String(host)) != nil
        }
        guard !host.isEmpty else { throw .emptyHost }
        return (host, portText, literal)
    }

    /// 1-65535 in at most five decimal digits.
    static func parsePort(_ portText: Substring) throws(TURNURIError) -> UInt16 {
        guard !portText.isEmpty, portText.utf8.count <= 5, let p = UInt16(portText), p > 0 else { throw .badPort }
        for ch in portText.utf8 where ch < 0x30 || ch > 0x39 { throw .badPort }
        return p
    }

    static func schemeNamed(_ s: Substring) -> Scheme? {
        switch asciiLowercased(s) {
        case "stun": return .stun
        case "stuns": return .stuns
        case "turn": return .turn
        case "turns": return .turns
        default: return nil
        }
    }

    static func asciiLowercased(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        for ch in s.utf8 { bytes.append(ch >= 0x41 && ch <= 0x5A ? ch + 0x20 : ch) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
