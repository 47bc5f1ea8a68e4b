/// A minimal HTTP/1.1 message (RFC 9112) for WHIP-style signaling: bounded sizes, a
/// Content-Length body, no chunked coding, one exchange per connection.
public struct HTTPMessage: Sendable {
    /// Request: method and target. Response: status and reason.
    public var method = ""
    public var target = ""
    public var status = 0
    public var reason = ""
    /// Header names lower-cased (RFC 9110 §5.1: case-insensitive).
    public var headers: [(name: String, value: String)] = []
    public var body: [UInt8] = []

    public init() {}

    public static func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) -> HTTPMessage {
        var m = HTTPMessage()
        m.method = method
        m.target = target
        m.headers = headers.map { ($0.0.lowercased(), $0.1) }
        m.body = body
        return m
    }

    public static func response(_ status: Int, _ reason: String, headers: [(String, String)] = [], body: [UInt8] = []) -> HTTPMessage {
        var m = HTTPMessage()
        m.status = status
        m.reason = reason
        m.headers = headers.map { ($0.0.lowercased(), $0.1) }
        m.body = body
        return m
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    public var isRequest: Bool { !method.isEmpty }

    /// Wire form with Content-Length and Connection: close.
    public func serialize() -> [UInt8] {
        var head = isRequest ? "\(method) \(target) HTTP/1.1\r\n" : "HTTP/1.1 \(status) \(reason)\r\n"
        for (n, v) in headers where n != "content-length" && n != "connection" { head += "\(n): \(v)\r\n" }
        head += "content-length: \(body.count)\r\nconnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// Why a message was refused, as the status a server answers with.
public enum HTTPParseError: Error, Equatable, Sendable {
    case badRequest            // 400
    case lengthRequired        // 411
    case payloadTooLarge       // 413
    case headersTooLarge       // 431
    case notImplemented        // 501: transfer codings

    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .lengthRequired: return 411
        case .payloadTooLarge: return 413
        case .headersTooLarge: return 431
        case .notImplemented: return 501
        }
    }

    public var reason: String {
        switch self {
        case .badRequest: return "Bad Request"
        case .lengthRequired: return "Length Required"
        case .payloadTooLarge: return "Content Too Large"
        case .headersTooLarge: return "Request Header Fields Too Large"
        case .notImplemented: return "Not Implemented"
        }
    }
}

/// Incremental parser: feed bytes as they arrive; it answers once a whole message is in.
public struct HTTPParser: Sendable {
    public static let maxHeaderBytes = 8192
    public static let maxHeaders = 64
    public static let maxBody = 65536

    let expectRequest: Bool
    var buffer: [UInt8] = []

    public init(request: Bool) { expectRequest = request }

    /// `feed` for the first `count` bytes of an array.
    public mutating func feed(_ bytes: [UInt8], count: Int) throws(HTTPParseError) -> HTTPMessage? {
        buffer.append(contentsOf: bytes[0..<count])
        return try feed(UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Appends bytes; returns the message when complete, nil when more is needed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPMessage? {
        buffer.append(contentsOf: bytes)
        guard let headEnd = findHeaderEnd() else {
            if buffer.count > Self.maxHeaderBytes { throw .headersTooLarge }
            return nil
        }
        guard headEnd <= Self.maxHeaderBytes else { throw .headersTooLarge }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw .badRequest }
        let start = lines.removeFirst()
        var m = HTTPMessage()
        let parts = start.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if expectRequest {
            guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), !parts[0].isEmpty, parts[1].hasPrefix("/") else { throw .badRequest }
            m.method = String(parts[0])
            m.target = String(parts[1])
        } else {
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status) else {
                throw .badRequest
            }
            m.status = status
            m.reason = parts.count == 3 ? String(parts[2]) : ""
        }
        for line in lines where !line.isEmpty {
            guard m.headers.count < Self.maxHeaders else { throw .headersTooLarge }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[line.startIndex..<colon].contains(" ") else { throw .badRequest }
            let name = line[..<colon].lowercased()
            var value = Substring(line[line.index(after: colon)...])
            while value.first == " " || value.first == "\t" { value = value.dropFirst() }
            while value.last == " " || value.last == "\t" { value = value.dropLast() }
            m.headers.append((name, String(value)))
        }
        if m.header("transfer-encoding") != nil { throw .notImplemented }
        var length = 0
        if let cl = m.header("content-length") {
            guard let n = Int(cl), n >= 0 else { throw .badRequest }
            guard n <= Self.maxBody else { throw .payloadTooLarge }
            length = n
        } else if expectRequest && (m.method == "POST" || m.method == "PATCH" || m.method == "PUT") {
            throw .lengthRequired
        }
        let bodyStart = headEnd + 4
        guard buffer.count >= bodyStart + length else { return nil }
        m.body = Array(buffer[bodyStart..<(bodyStart + length)])
        return m
    }

    func findHeaderEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// "http://host:port/path" split into its parts (no TLS in this build).
public struct HTTPURL: Sendable {
    public var host: String
    public var port: UInt16
    public var path: String

    public init?(_ text: String) {
        guard text.hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { port = 80 } else {
                guard after.hasPrefix(":"), let p = UInt16(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(authority)
            port = 80
        }
        if host.isEmpty { return nil }
    }

    public var hostAndPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
