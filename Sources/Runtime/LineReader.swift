import CLinux

/// Reads newline-separated lines from a file descriptor (stdin for the CLI), without
/// Foundation. Lines are capped at `maxLine` bytes; the excess of a longer line is dropped.
public struct LineReader {
    public struct ReadError: Error { public let errno: Int32 }

    let descriptor: Int32
    let maxLine: Int
    var buffer: [UInt8] = []
    var start = 0
    var eof = false

    public init(descriptor: Int32, maxLine: Int = 1 << 20) {
        self.descriptor = descriptor
        self.maxLine = maxLine
    }

    /// The next line without its terminator, or nil at end of input.
    public mutating func nextLine() throws(ReadError) -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<min(nl, start + maxLine)])
                start = nl + 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start..<min(buffer.count, start + maxLine)])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            if buffer.count > maxLine {
                // Keep reading to find the end of an over-long line, but hold only maxLine bytes.
                buffer.removeLast(buffer.count - maxLine)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if ice_errno() == ice_EINTR { continue }
                throw ReadError(errno: ice_errno())
            }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}
