import Foundation

// A WHIP client speaking raw HTTP/1.1 to `ice-agent answer --listen` on loopback, for the tests
// of the signaling server.

/// A raw HTTP/1.1 response as the test client read it.
public struct HTTPResponse {
    public let raw: String
    public var status: Int { raw.hasPrefix("HTTP/1.1 ") ? Int(raw.dropFirst(9).prefix(3)) ?? 0 : 0 }
    public func header(_ name: String) -> String? {
        let head = raw.components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
    public var body: String { raw.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
}

/// Connects to 127.0.0.1:port, sends `raw`, and reads until the server closes.
public func exchange(_ port: UInt16, _ raw: String) -> HTTPResponse { exchange(port, bytes: Array(raw.utf8)) }

/// The same with any bytes (invalid UTF-8 included).
public func exchange(_ port: UInt16, bytes raw: [UInt8]) -> HTTPResponse {
    let fd = connectTCP(port)
    guard fd >= 0 else { return HTTPResponse(raw: "connect failed") }
    defer { close(fd) }
    _ = raw.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    return HTTPResponse(raw: readAll(fd))
}

public func connectTCP(_ port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = loopbackAddress(port)
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { close(fd); return -1 }
    setReceiveTimeout(fd, microseconds: 10_000_000)
    return fd
}

public func readAll(_ fd: Int32) -> String {
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// A WHIP offer (RFC 9725): one H.264 video section with trickle ICE.
/// A doorbell's offer: one H.264 video section, DTLS-SRTP (a=fingerprint and a=setup:actpass,
/// RFC 8842) unless `secure` is false (plain RTP/AVP, which a home refuses unless it runs with
/// `--media-security none`). The fingerprint names no real certificate: the tests that post it
/// are about signaling, not media.
public func offerSDP(ufrag: String = "door", pwd: String = "doorbellpassword012345", candidates: [String] = [],
                     secure: Bool = true) -> String {
    var s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-options:trickle\r\na=ice-ufrag:\(ufrag)\r\na=ice-pwd:\(pwd)\r\n"
    s += "m=video 9 \(secure ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP") 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
    s += "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
    if secure {
        s += "a=setup:actpass\r\na=fingerprint:sha-256 " + (0..<32).map { _ in "5A" }.joined(separator: ":") + "\r\n"
    }
    for c in candidates { s += "a=\(c)\r\n" }
    return s
}

public func post(_ port: UInt16, _ sdp: String, token: String? = nil, extraHeaders: String = "") -> HTTPResponse {
    let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
    return exchange(port, "POST /whip HTTP/1.1\r\nHost: home\r\n\(auth)\(extraHeaders)Content-Type: application/sdp\r\n"
                    + "Content-Length: \(sdp.utf8.count)\r\n\r\n" + sdp)
}

public func patch(_ port: UInt16, _ path: String, _ fragment: String, ifMatch: String? = nil, token: String? = nil) -> HTTPResponse {
    let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
    let cond = ifMatch.map { "If-Match: \($0)\r\n" } ?? ""
    return exchange(port, "PATCH \(path) HTTP/1.1\r\nHost: home\r\n\(auth)\(cond)Content-Type: application/trickle-ice-sdpfrag\r\n"
                    + "Content-Length: \(fragment.utf8.count)\r\n\r\n" + fragment)
}

public func delete(_ port: UInt16, _ path: String, token: String? = nil) -> HTTPResponse {
    let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
    return exchange(port, "DELETE \(path) HTTP/1.1\r\nHost: home\r\n\(auth)\r\n")
}

/// A trickle ICE SDP fragment (RFC 8840 §4.4).
public func fragment(ufrag: String, pwd: String, candidates: [String] = []) -> String {
    "a=ice-ufrag:\(ufrag)\r\na=ice-pwd:\(pwd)\r\nm=video 9 RTP/AVP 96\r\na=mid:0\r\n" + candidates.map { "a=\($0)\r\n" }.joined()
}

/// `ice-agent answer --listen 127.0.0.1:port` on loopback, once it listens.
public func startHome(_ port: UInt16, _ extra: [String] = [], seconds: Int = 60) throws -> Background {
    let h = try Background(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback", "--interface", "lo",
                                                "--duration", "\(seconds)"] + extra)
    guard waitUntil({ h.output.contains("listening on http://") }) else {
        h.stop()
        throw TestFailure("answer --listen did not start: \(h.output)")
    }
    return h
}

/// A temporary file holding `contents` (token and credential files).
public func tempFile(_ contents: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ice-test-\(UUID().uuidString)").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
