import CLinux
import Common

/// Writes bytes to stderr (logs and diagnostics never go to stdout, which carries output).
@discardableResult
public func writeStderr(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    write(2, bytes.baseAddress, bytes.count)
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
