import CLinux
import Common

/// A listening TCP socket (non-blocking accept, for the event loop).
public final class TCPListener {
    public let descriptor: Int32
    public let localAddress: TransportAddress

    public init(bind address: TransportAddress) throws(SocketError) {
        (descriptor, localAddress) = try openBoundSocket(address, type: ice_SOCK_STREAM, listening: true)
    }

    deinit { close(descriptor) }

    /// The next pending connection, or nil.
    public func accept() -> TCPStream? {
        var peer = SocketAddress()
        let fd = peer.withSockaddr { p, len in CLinux.accept(descriptor, p, len) }
        guard fd >= 0 else { return nil }
        _ = ice_set_nonblocking(fd)
        return TCPStream(descriptor: fd, peer: peer.transportAddress ?? TransportAddress(.v4Any, 0))
    }
}

/// A connected TCP socket. Owns its descriptor.
public final class TCPStream {
    public let descriptor: Int32
    public let peer: TransportAddress

    init(descriptor: Int32, peer: TransportAddress) {
        self.descriptor = descriptor
        self.peer = peer
    }

    deinit { close(descriptor) }

    /// Starts a non-blocking connect; the socket becomes writable when it completes (check
    /// `connectError()`).
    public static func startConnect(to address: TransportAddress) throws(SocketError) -> TCPStream {
        let fd = socket(address.ip.isIPv4 ? ice_AF_INET : ice_AF_INET6, ice_SOCK_STREAM | ice_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw .socket(ice_errno()) }
        let stream = TCPStream(descriptor: fd, peer: address)
        _ = ice_set_nonblocking(fd)
        var sa = SocketAddress(address)
        if sa.withSockaddr({ p, len in CLinux.connect(fd, p, len.pointee) }) != 0 && ice_errno() != ice_EINPROGRESS {
            throw .connect(ice_errno())
        }
        return stream
    }

    /// The pending error of a non-blocking connect (0 when connected).
    public func connectError() -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(descriptor, ice_SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    /// Connects with a timeout; the stream is then blocking with `timeoutMilliseconds` send and
    /// receive timeouts (for short request/response exchanges).
    public static func connect(to address: TransportAddress, timeoutMilliseconds: Int32) throws(SocketError) -> TCPStream {
        let fd = socket(address.ip.isIPv4 ? ice_AF_INET : ice_AF_INET6, ice_SOCK_STREAM | ice_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw .socket(ice_errno()) }
        let stream = TCPStream(descriptor: fd, peer: address)
        _ = ice_set_nonblocking(fd)
        var sa = SocketAddress(address)
        let rc = sa.withSockaddr { p, len in CLinux.connect(fd, p, len.pointee) }
        if rc != 0 {
            guard ice_errno() == ice_EINPROGRESS else { throw .connect(ice_errno()) }
            var pfd = pollfd(fd: fd, events: Int16(ice_POLLOUT), revents: 0)
            guard poll(&pfd, 1, timeoutMilliseconds) == 1 else { throw .timeout }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, ice_SOL_SOCKET, SO_ERROR, &err, &len)
            guard err == 0 else { throw .connect(err) }
        }
        // Back to blocking with timeouts.
        _ = ice_set_blocking(fd)
        // time_t and suseconds_t: 32 bits on glibc armhf, 64 on musl armhf (and every 64-bit ABI).
        var tv = timeval(tv_sec: time_t(timeoutMilliseconds / 1000), tv_usec: suseconds_t(timeoutMilliseconds % 1000) * 1000)
        _ = setsockopt(fd, ice_SOL_SOCKET, ice_SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, ice_SOL_SOCKET, ice_SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return stream
    }

    /// Sends everything (blocking streams) or what fits (non-blocking); returns bytes sent.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        var off = 0
        while off < bytes.count {
            let n = CLinux.send(descriptor, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            if n < 0 {
                let e = ice_errno()
                if e == ice_EINTR { continue }
                if e == ice_EAGAIN { return off }
                throw .send(e)
            }
            off += n
        }
        return off
    }

    /// `send` for an array (closures over array storage cannot carry typed errors).
    @discardableResult
    public func send(_ bytes: [UInt8]) throws(SocketError) -> Int {
        let r: Result<Int, SocketError> = bytes.withUnsafeBytes { b in
            do throws(SocketError) { return .success(try send(b)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// `receive` into an array's storage.
    public func receive(into buffer: inout [UInt8]) throws(SocketError) -> Int? {
        let r: Result<Int?, SocketError> = buffer.withUnsafeMutableBytes { b in
            do throws(SocketError) { return .success(try receive(into: b)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// Reads what is available: 0 at end of stream, nil when it would block.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int? {
        while true {
            let n = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let e = ice_errno()
            if e == ice_EINTR { continue }
            if e == ice_EAGAIN { return nil }
            throw .receive(e)
        }
    }
}

/// strerror's text for `errno` ("Connection refused").
public func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "errno \(code)" }
    return String(cString: s)
}
