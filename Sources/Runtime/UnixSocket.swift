import CLinux
import Common

/// A listening unix stream socket (for `ice-agent status`). Removes its path on deinit.
public final class UnixListener {
    public let descriptor: Int32
    public let path: String

    public init?(path: String) {
        let fd = socket(ice_AF_UNIX, ice_SOCK_STREAM | ice_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { return nil }
        unlink(path)
        var addr = sockaddr_un()
        guard fillUnixAddress(&addr, path) else { close(fd); return nil }
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            CLinux.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard ok == 0, listen(fd, 8) == 0 else { close(fd); return nil }
        _ = ice_set_nonblocking(fd)
        descriptor = fd
        self.path = path
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Accepts one pending connection and writes `text` to it, then closes it.
    public func answerPending(_ text: () -> String) {
        while true {
            let c = accept(descriptor, nil, nil)
            guard c >= 0 else { return }
            var t = text()
            t.withUTF8 { b in _ = CLinux.send(c, b.baseAddress, b.count, Int32(MSG_NOSIGNAL)) }
            close(c)
        }
    }
}

/// Connects to a unix socket and reads everything it says.
public func readUnixSocket(path: String) -> String? {
    let fd = socket(ice_AF_UNIX, ice_SOCK_STREAM | ice_SOCK_CLOEXEC, 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var addr = sockaddr_un()
    guard fillUnixAddress(&addr, path) else { return nil }
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        CLinux.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    guard ok == 0 else { return nil }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

func fillUnixAddress(_ addr: inout sockaddr_un, _ path: String) -> Bool {
    addr.sun_family = sa_family_t(ice_AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: addr.sun_path)
    guard bytes.count < capacity else { return false }
    withUnsafeMutableBytes(of: &addr.sun_path) { p in
        for i in 0..<bytes.count { p[i] = bytes[i] }
        p[bytes.count] = 0
    }
    return true
}
