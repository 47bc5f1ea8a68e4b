import CLinux

/// Waits until one of `descriptors` is readable; returns its index, or nil on timeout.
public func pollReadable(_ descriptors: [Int32], timeoutMilliseconds: Int32) throws(SocketError) -> Int? {
    var fds = descriptors.map { pollfd(fd: $0, events: Int16(ice_POLLIN), revents: 0) }
    while true {
        let r = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
        if r < 0 {
            if ice_errno() == ice_EINTR { continue }
            throw .poll(ice_errno())
        }
        if r == 0 { return nil }
        return fds.firstIndex { $0.revents != 0 }
    }
}
