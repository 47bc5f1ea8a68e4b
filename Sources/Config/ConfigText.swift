/// One `key = value` line of a configuration file, with its 1-based line number so a caller
/// can name the line when it rejects the key or the value.
public struct ConfigEntry: Equatable, Sendable {
    public var line: Int
    public var key: String
    public var value: String

    public init(line: Int, key: String, value: String) {
        self.line = line
        self.key = key
        self.value = value
    }
}

/// Why a configuration file's text is not a list of `key = value` lines.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// A line that is neither blank, a comment, nor `key = value`.
        case expectedKeyValue
        /// Nothing before the `=`.
        case emptyKey
        /// Blanks inside the key (`turn user = ...`).
        case blankInKey
        /// More than `ConfigText.maxBytes` of text.
        case tooLarge
    }

    /// 1-based; 0 for the whole file (`tooLarge`).
    public var line: Int
    public var kind: Kind

    public init(line: Int, _ kind: Kind) {
        self.line = line
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .expectedKeyValue: return "line \(line): expected key = value"
        case .emptyKey: return "line \(line): no key before ="
        case .blankInKey: return "line \(line): a key has no blanks"
        case .tooLarge: return "larger than \(ConfigText.maxBytes) bytes"
        }
    }
}

/// The configuration file's syntax: one `key = value` per line.
///
/// - Blanks are space, tab and CR (CRLF files read as LF files); they are trimmed around the
///   key and the value, and kept inside the value.
/// - A comment starts at a `#` that is the line's first non-blank character or that follows a
///   blank, and runs to the end of the line. Any other `#` is part of the value, so
///   `turn-user = alice:pa#ss` keeps its password whole; a value cannot contain " #".
/// - The key is everything before the first `=`; the value may hold further `=` (fmtp) and may
///   be empty: what a key accepts is the caller's business.
public enum ConfigText {
    /// The daemon reads at most this much of a configuration file.
    public static let maxBytes = 64 * 1024

    public static func parse(_ text: String) throws(ConfigError) -> [ConfigEntry] {
        // withUTF8 rethrows untyped errors: carry the typed one out in a Result.
        var t = text
        let result = t.withUTF8 { bytes -> Result<[ConfigEntry], ConfigError> in
            do throws(ConfigError) { return .success(try parse(UnsafeRawBufferPointer(bytes))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ConfigError) -> [ConfigEntry] {
        guard bytes.count <= maxBytes else { throw ConfigError(line: 0, .tooLarge) }
        var entries: [ConfigEntry] = []
        var line = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != newline { end += 1 }
            line += 1
            if let entry = try parseLine(bytes, start, end, line: line) { entries.append(entry) }
            start = end + 1
        }
        return entries
    }

    static let newline = UInt8(ascii: "\n")
    static let hash = UInt8(ascii: "#")
    static let equals = UInt8(ascii: "=")

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// The entry on bytes[start..<end], nil for a blank or comment line.
    static func parseLine(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, line: Int) throws(ConfigError) -> ConfigEntry? {
        // Cut the comment: a `#` at the start of the line or after a blank.
        var stop = start
        while stop < end {
            if bytes[stop] == hash && (stop == start || isBlank(bytes[stop - 1])) { break }
            stop += 1
        }
        let (lo, hi) = trim(bytes, start, stop)
        if lo == hi { return nil }
        var eq = lo
        while eq < hi && bytes[eq] != equals { eq += 1 }
        guard eq < hi else { throw ConfigError(line: line, .expectedKeyValue) }
        let (keyLo, keyHi) = trim(bytes, lo, eq)
        guard keyLo < keyHi else { throw ConfigError(line: line, .emptyKey) }
        for i in keyLo..<keyHi where isBlank(bytes[i]) { throw ConfigError(line: line, .blankInKey) }
        let (valueLo, valueHi) = trim(bytes, eq + 1, hi)
        return ConfigEntry(line: line, key: text(bytes, keyLo, keyHi), value: text(bytes, valueLo, valueHi))
    }

    static func trim(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (Int, Int) {
        var lo = start, hi = end
        while lo < hi && isBlank(bytes[lo]) { lo += 1 }
        while hi > lo && isBlank(bytes[hi - 1]) { hi -= 1 }
        return (lo, hi)
    }

    static func text(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}
