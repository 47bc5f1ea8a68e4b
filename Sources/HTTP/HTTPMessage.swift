import Common

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
        m.headers = headers.map { ($0.0.asciiLowercased(), $0.1) }
        m.body = body
        return m
    }

    public static func response(_ status: Int, _ reason: String, headers: [(String, String)] = [], body: [UInt8] = []) -> HTTPMessage {
        var m = HTTPMessage()
        m.status = status
        m.reason = reason
        m.headers = headers.map { ($0.0.asciiLowercased(), $0.1) }
        m.body = body
        return m
    }

    public func header(_ name: String) -> String? {
        let n = name.asciiLowercased()
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
