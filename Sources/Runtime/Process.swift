import CLinux
import Common

/// Writes bytes to stderr (logs and diagnostics never go to stdout, which carries output).
@discardableResult
public func writeStderr(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    write(2, bytes.baseAddress, bytes.count)
}

/// One line of text to stderr: a command's diagnostics, apart from its output on stdout.
public func printError(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = writeStderr($0) }
}

public func exit(_ status: Int32) -> Never {
    CLinux.exit(status)
}

/// Writes all of `text` to stdout unbuffered (signaling lines must leave at once).
public func writeStdout(_ text: String) {
    var t = text
    t.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(1, buf.baseAddress! + off, buf.count - off)
            if n <= 0 {
                if n < 0 && ice_errno() == ice_EINTR { continue }
                return
            }
            off += n
        }
    }
}

/// The whole content of a (small) file, at most `limit` bytes; nil if it cannot be read.
public func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = ice_open_for_reading(path)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while out.count <= limit {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if ice_errno() == ice_EINTR { continue }; return nil }
        if n == 0 { return out }
        out += buf[0..<n]
    }
    return nil
}

/// The process's arguments, argv[0] first, from /proc/self/cmdline (NUL-separated). Works in
/// Embedded Swift, which has no CommandLine.
public func commandLineArguments() -> [String] {
    guard let bytes = readFile("/proc/self/cmdline", limit: 1 << 20) else { return [] }
    var out: [String] = []
    var start = 0
    for i in 0..<bytes.count where bytes[i] == 0 {
        out.append(String(decoding: bytes[start..<i], as: UTF8.self))
        start = i + 1
    }
    if start < bytes.count { out.append(String(decoding: bytes[start...], as: UTF8.self)) }
    return out
}
