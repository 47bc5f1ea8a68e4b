import Foundation

// Sockets on 127.0.0.1 for the tests: nothing a test sends leaves this machine.

/// 127.0.0.1:port.
public func loopbackAddress(_ port: UInt16 = 0) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = port.bigEndian
    return addr
}

/// A socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to 127.0.0.1:port, the port the kernel
/// picks when `port` is 0, and the port it got.
public func bindLoopback(_ type: Int32, port: UInt16 = 0) -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, type, 0)
    var addr = loopbackAddress(port)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            _ = bind(fd, sa, len)
            _ = getsockname(fd, sa, &len)
        }
    }
    return (fd, UInt16(bigEndian: addr.sin_port))
}

/// Bounds each recv on `fd`, so a reader thread can notice it was asked to stop.
public func setReceiveTimeout(_ fd: Int32, microseconds: Int) {
    var timeout = timeval(tv_sec: microseconds / 1_000_000, tv_usec: microseconds % 1_000_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
}

/// Sends one datagram from `fd` to 127.0.0.1:port.
@discardableResult
public func sendLoopback(_ fd: Int32, _ bytes: [UInt8], to port: UInt16) -> Int {
    var to = loopbackAddress(port)
    return bytes.withUnsafeBytes { b in
        withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
}

/// Sends one datagram from a fresh socket to a loopback address as the daemon prints it
/// ("127.0.0.1:port" or "[::1]:port"); the bytes sent, or -1.
@discardableResult
public func sendLoopback(_ bytes: [UInt8], to text: String) -> Int {
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return -1 }
    guard text.hasPrefix("[") else {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        return sendLoopback(fd, bytes, to: port)
    }
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var to = sockaddr_in6()
    to.sin6_family = sa_family_t(AF_INET6)
    to.sin6_addr = in6addr_loopback
    to.sin6_port = port.bigEndian
    return bytes.withUnsafeBytes { b in
        withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }
}
