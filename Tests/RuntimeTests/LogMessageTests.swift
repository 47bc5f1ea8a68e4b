import Runtime
import Testing

/// A log message's pieces are appended out of line; the text must be what the same literal
/// would make as a `String`.
@Suite struct LogMessageTests {
    struct Port: CustomStringConvertible {
        let n: Int
        var description: String { "port \(n)" }
    }

    @Test func interpolationsReadAsTheyWouldInAString() {
        let name = "call-1"
        let count = 42
        let flag = false
        let m: LogMessage = "\(name): \(count) checks, \(Port(n: 3478)), nominated: \(flag)\(flag ? " yes" : "")."
        #expect(m.text == "call-1: 42 checks, port 3478, nominated: false.")
    }

    @Test func aPlainLiteralAndAnEmptyOne() {
        let plain: LogMessage = "doorbell: SIGUSR1"
        #expect(plain.text == "doorbell: SIGUSR1")
        let empty: LogMessage = ""
        #expect(empty.text.isEmpty)
        let nonASCII: LogMessage = "mDNS: \("héllo.local") ✓"
        #expect(nonASCII.text == "mDNS: héllo.local ✓")
    }

    /// The `--log-timestamps` field: whole seconds, a dot and exactly six digits of microseconds.
    @Test func timestampTextPadsTheMicroseconds() {
        #expect(Log.timestampText(microseconds: 1_796_400_215_627_822) == "1796400215.627822")
        #expect(Log.timestampText(microseconds: 1_796_400_215_000_042) == "1796400215.000042")
        #expect(Log.timestampText(microseconds: 5) == "0.000005")
        #expect(Log.timestampText(microseconds: -3) == "0.000000")
    }
}
