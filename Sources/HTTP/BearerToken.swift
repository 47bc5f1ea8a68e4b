/// A shared secret for `Authorization: Bearer` (RFC 6750 §2.1, required of WHIP clients by
/// RFC 9725 §4.7.1), held as bytes and compared in constant time.
public struct BearerToken: Sendable {
    public let bytes: [UInt8]

    /// Why a token file's text is not a token.
    public enum Failure: Error, Equatable, Sendable {
        case empty
        case tooLong
        /// Not RFC 6750 b64token syntax (byte offset of the first bad character).
        case badCharacter(Int)

        public var description: String {
            switch self {
            case .empty: return "the token is empty"
            case .tooLong: return "the token is longer than \(BearerToken.maxLength) bytes"
            case .badCharacter(let i): return "character \(i + 1) is not allowed in a bearer token (RFC 6750 b64token)"
            }
        }
    }

    public static let maxLength = 1024
    /// Tokens shorter than this are accepted but worth a warning: guessable.
    public static let recommendedMinimum = 16

    /// The token in a file's text: surrounding blanks and line ends are ignored.
    public init(fileText: [UInt8]) throws(Failure) {
        var start = 0, end = fileText.count
        while start < end, isBlank(fileText[start]) { start += 1 }
        while end > start, isBlank(fileText[end - 1]) { end -= 1 }
        guard end > start else { throw .empty }
        guard end - start <= Self.maxLength else { throw .tooLong }
        let token = Array(fileText[start..<end])
        if let bad = Self.firstInvalid(token) { throw .badCharacter(bad) }
        bytes = token
    }

    /// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    static func firstInvalid(_ t: [UInt8]) -> Int? {
        var padding = false
        for (i, c) in t.enumerated() {
            if c == 61 { padding = true; continue }  // "=" only as trailing padding
            if padding { return i }
            switch c {
            case 48...57, 65...90, 97...122, 45, 46, 95, 126, 43, 47: continue
            default: return i
            }
        }
        return t.first == 61 ? 0 : nil
    }

    /// The Authorization field value for requests.
    public var headerValue: String { "Bearer " + String(decoding: bytes, as: UTF8.self) }

    /// Whether an Authorization field value carries this token. The scheme is
    /// case-insensitive (RFC 9110 §11.1); the token is compared in time independent of where
    /// it first differs, so response timing does not reveal a prefix.
    public func accepts(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let v = Array(authorization.utf8)
        guard v.count > 7, asciiLower(v[0..<6]) == Array("bearer".utf8), v[6] == 32 else { return false }
        var i = 7
        while i < v.count && v[i] == 32 { i += 1 }
        return constantTimeEquals(v[i...], bytes[...])
    }
}

/// Equality of two byte strings whose running time depends only on their lengths.
public func constantTimeEquals(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    var diff: UInt8 = a.count == b.count ? 0 : 1
    let n = max(a.count, b.count)
    var i = 0
    while i < n {
        let x = i < a.count ? a[a.startIndex + i] : 0
        let y = i < b.count ? b[b.startIndex + i] : 0
        diff |= x ^ y
        i += 1
    }
    return diff == 0
}

func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

func asciiLower(_ s: ArraySlice<UInt8>) -> [UInt8] { s.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
