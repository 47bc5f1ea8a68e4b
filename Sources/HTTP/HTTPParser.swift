import Common

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
///
/// Each byte is examined a bounded number of times whatever the segmentation: the search for
/// the blank line ending the head resumes where the last one stopped, the head is parsed once,
/// and the body is only counted until it is complete. A peer sending one byte per segment
/// costs linear work, not quadratic.
public struct HTTPParser: Sendable {
    public static let maxHeaderBytes = 8192
    public static let maxHeaders = 64
    public static let maxBody = 65536

    let expectRequest: Bool
    var buffer: [UInt8] = []
    /// The blank-line search resumes here: earlier positions cannot start CRLFCRLF.
    var searchFrom = 0
    var bodyStart = 0
    var bodyLength = 0
    /// The start line and header fields, as soon as the head is complete (before the body):
    /// a server can refuse an unauthenticated request without reading its body.
    public private(set) var head: HTTPMessage? = nil
    /// Bytes examined so far (blank-line search, head parsing, body copy): for tests that
    /// check the work is linear in the input.
    public private(set) var bytesScanned = 0

    public init(request: Bool) { expectRequest = request }

    /// `feed` for the first `count` bytes of an array.
    public mutating func feed(_ bytes: [UInt8], count: Int) throws(HTTPParseError) -> HTTPMessage? {
        let r: Result<HTTPMessage?, HTTPParseError> = bytes.withUnsafeBytes { all in
            do throws(HTTPParseError) {
                return .success(try feed(UnsafeRawBufferPointer(rebasing: all[0..<min(count, all.count)])))
            } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// Appends bytes; returns the message when complete, nil when more is needed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPMessage? {
        if head == nil {
            // Never hold more than one head's worth (plus this segment) before refusing it.
            buffer.append(contentsOf: bytes)
            guard let headEnd = findHeaderEnd() else {
                if buffer.count > Self.maxHeaderBytes + 3 { throw .headersTooLarge }
                return nil
            }
            guard headEnd <= Self.maxHeaderBytes else { throw .headersTooLarge }
            head = try parseHead(headEnd)
            bodyStart = headEnd + 4
            // Bytes past the declared body (a second, pipelined request) are not kept.
            if buffer.count > bodyStart + bodyLength { buffer.removeLast(buffer.count - bodyStart - bodyLength) }
        } else {
            let room = bodyStart + bodyLength - buffer.count
            if room > 0 { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<min(room, bytes.count)])) }
        }
        guard var m = head, buffer.count >= bodyStart + bodyLength else { return nil }
        m.body = Array(buffer[bodyStart..<(bodyStart + bodyLength)])
        bytesScanned += bodyLength
        return m
    }

    /// Index of the CRLFCRLF ending the head, searching only bytes not examined before.
    mutating func findHeaderEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        var i = searchFrom
        while i <= buffer.count - 4 {
            bytesScanned += 1
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        searchFrom = i
        return nil
    }

    /// The start line and header fields (RFC 9112 §2.1, §5), parsed once.
    mutating func parseHead(_ headEnd: Int) throws(HTTPParseError) -> HTTPMessage {
        bytesScanned += headEnd
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < headEnd {
            if buffer[i] == 13 && i + 1 < headEnd && buffer[i + 1] == 10 {
                lines.append(buffer[start..<i])
                i += 2
                start = i
                continue
            }
            // RFC 9110 §5.5: no CR, LF or NUL in a field; other controls but HTAB neither.
            if buffer[i] < 0x20 && buffer[i] != 9 || buffer[i] == 0x7F { throw .badRequest }
            i += 1
        }
        lines.append(buffer[start..<headEnd])
        guard let first = lines.first, !first.isEmpty else { throw .badRequest }
        var m = HTTPMessage()
        let startLine = String(decoding: first, as: UTF8.self)
        let parts = startLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if expectRequest {
            guard parts.count == 3, parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0", !parts[0].isEmpty,
                  parts[0].utf8.allSatisfy(isTokenChar), parts[1].hasPrefix("/"), !parts[1].contains(" ") else { throw .badRequest }
            m.method = String(parts[0])
            m.target = String(parts[1])
        } else {
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].utf8.count == 3,
                  parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let status = Int(parts[1]), (100...599).contains(status) else {
                throw .badRequest
            }
            m.status = status
            m.reason = parts.count == 3 ? String(parts[2]) : ""
        }
        for raw in lines.dropFirst() {
            guard m.headers.count < Self.maxHeaders else { throw .headersTooLarge }
            // RFC 9112 §5.1: no whitespace between the name and the colon; §5.2: no obs-fold.
            guard let colon = raw.firstIndex(of: 58), colon != raw.startIndex,
                  raw[raw.startIndex..<colon].allSatisfy(isTokenChar) else { throw .badRequest }
            let name = String(decoding: raw[raw.startIndex..<colon], as: UTF8.self).asciiLowercased()
            var value = raw[(colon + 1)...]
            while let f = value.first, f == 32 || f == 9 { value = value.dropFirst() }
            while let l = value.last, l == 32 || l == 9 { value = value.dropLast() }
            m.headers.append((name, String(decoding: value, as: UTF8.self)))
        }
        if m.header("transfer-encoding") != nil { throw .notImplemented }
        let lengths = m.headers.filter { $0.name == "content-length" }
        if let cl = lengths.first?.value {
            // RFC 9112 §6.3: differing Content-Length fields make the framing ambiguous.
            guard lengths.allSatisfy({ $0.value == cl }) else { throw .badRequest }
            guard !cl.isEmpty, cl.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw .badRequest }
            guard cl.utf8.count <= 7, let n = Int(cl), n <= Self.maxBody else { throw .payloadTooLarge }
            bodyLength = n
        } else if expectRequest && (m.method == "POST" || m.method == "PATCH" || m.method == "PUT") {
            throw .lengthRequired
        }
        return m
    }
}

/// RFC 9110 §5.6.2 tchar.
func isTokenChar(_ c: UInt8) -> Bool {
    switch c {
    case 48...57, 65...90, 97...122: return true
    case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
    default: return false
    }
}
