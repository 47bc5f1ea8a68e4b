/// Levelled logging to stderr. A call site holds only its level check and its message's pieces:
/// the message is built (out of line, see `LogMessage`) only when its level is on, so logging
/// costs one comparison on the packet path and little code per call site on the device.
public enum LogLevel: Int, Comparable, Sendable {
    case error = 0, warning, info, debug, trace

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public init?(name: String) {
        switch name {
        case "error": self = .error
        case "warning", "warn": self = .warning
        case "info": self = .info
        case "debug": self = .debug
        case "trace": self = .trace
        default: return nil
        }
    }

    var label: StaticString {
        switch self {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "info"
        case .debug: return "debug"
        case .trace: return "trace"
        }
    }
}

public enum Log {
    nonisolated(unsafe) public static var level: LogLevel = .info
    nonisolated(unsafe) public static var prefix = "ice-agent"
    /// Start each line with the wall-clock time, `<Unix seconds>.<microseconds> `, taken when
    /// the line is written: a reader that timestamps lines as they arrive (a pipe read by a
    /// busy process) sees them late, by as much as it lags.
    nonisolated(unsafe) public static var timestamps = false

    @inline(__always)
    public static func error(_ m: @autoclosure () -> LogMessage) {
        if LogLevel.error.rawValue <= level.rawValue { emit(.error, m()) }
    }

    @inline(__always)
    public static func warning(_ m: @autoclosure () -> LogMessage) {
        if LogLevel.warning.rawValue <= level.rawValue { emit(.warning, m()) }
    }

    @inline(__always)
    public static func info(_ m: @autoclosure () -> LogMessage) {
        if LogLevel.info.rawValue <= level.rawValue { emit(.info, m()) }
    }

    @inline(__always)
    public static func debug(_ m: @autoclosure () -> LogMessage) {
        if LogLevel.debug.rawValue <= level.rawValue { emit(.debug, m()) }
    }

    /// One line, "[<time> ]<prefix> [<level>] <message>", in one write so that lines from two
    /// processes sharing stderr do not interleave.
    @inline(never)
    static func emit(_ l: LogLevel, _ message: LogMessage) {
        var line = LogMessage.StringInterpolation(literalCapacity: prefix.utf8.count + message.text.utf8.count + 30,
                                                  interpolationCount: 0)
        if timestamps {
            line.appendInterpolation(timestampText(microseconds: wallClockMicroseconds()))
            line.appendLiteral(" ")
        }
        line.appendInterpolation(prefix)
        line.appendLiteral(" [")
        line.appendLiteral(l.label)
        line.appendLiteral("] ")
        line.appendInterpolation(message.text)
        line.appendLiteral("\n")
        line.text.withUTF8 { _ = writeStderr($0) }
    }
}

extension Log {
    /// `<seconds>.<six digits>` for a time in microseconds since the Unix epoch (not before it).
    public static func timestampText(microseconds: Int64) -> String {
        let us = max(microseconds, 0)
        let fraction = us % 1_000_000
        var digits = String(fraction)
        while digits.utf8.count < 6 { digits = "0" + digits }
        return String(us / 1_000_000) + "." + digits
    }
}
