/// Levelled logging to stderr. Messages are autoclosures: when a level is off, the text is
/// never built, so logging costs one comparison on the packet path.
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

    var label: String {
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

    @inline(__always)
    public static func write(_ l: LogLevel, _ message: @autoclosure () -> String) {
        guard l <= level else { return }
        var line = prefix + " [" + l.label + "] " + message() + "\n"
        line.withUTF8 { _ = writeStderr($0) }
    }

    public static func error(_ m: @autoclosure () -> String) { write(.error, m()) }
    public static func warning(_ m: @autoclosure () -> String) { write(.warning, m()) }
    public static func info(_ m: @autoclosure () -> String) { write(.info, m()) }
    public static func debug(_ m: @autoclosure () -> String) { write(.debug, m()) }
}
