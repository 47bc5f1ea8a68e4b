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
