import CLinux
import Common

/// Why a socket operation failed: the call that failed and errno.
public enum SocketError: Error, Equatable {
    case socket(Int32)
    case bind(Int32)
    case send(Int32)
    case receive(Int32)
    case poll(Int32)
    case connect(Int32)
    case timeout
    case addressFamily

    public var description: String {
        switch self {
        case .socket(let e): return "socket() failed: errno \(e)"
        case .bind(let e): return "bind() failed: errno \(e)"
        case .send(let e): return "sendto() failed: errno \(e)"
        case .receive(let e): return "recvfrom() failed: errno \(e)"
        case .poll(let e): return "poll() failed: errno \(e)"
        case .connect(let e): return "connect() failed: errno \(e)"
        case .timeout: return "timed out"
        case .addressFamily: return "unsupported address family"
        }
    }
}

/// A bound UDP socket. Owns its descriptor and closes it on deinit.
public final class UDPSocket {
    public let descriptor: Int32
    public let localAddress: TransportAddress

    /// Opens a socket bound to `address` (port 0 picks an ephemeral port).
    public init(bind address: TransportAddress) throws(SocketError) {
        (descriptor, localAddress) = try openBoundSocket(address, type: ice_SOCK_DGRAM, listening: false)
    }

    deinit { close(descriptor) }

    public func send(_ bytes: UnsafeRawBufferPointer, to address: TransportAddress) throws(SocketError) {
        var sa = SocketAddress(address)
        let n = sa.withSockaddr { p, len in sendto(descriptor, bytes.baseAddress, bytes.count, 0, p, len.pointee) }
        guard n >= 0 else { throw .send(ice_errno()) }
    }

    /// Reads one datagram without waiting; nil when none is queued.
    public func tryReceive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> (count: Int, from: TransportAddress)? {
        var from = SocketAddress()
        let n = from.withSockaddr { p, len in recvfrom(descriptor, buffer.baseAddress, buffer.count, ice_MSG_DONTWAIT, p, len) }
        if n < 0 {
            let e = ice_errno()
            if e == ice_EAGAIN || e == ice_EINTR { return nil }
            throw .receive(e)
        }
        guard let source = from.transportAddress else { throw .addressFamily }
        return (n, source)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for a datagram. Nil on timeout.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) throws(SocketError) -> (count: Int, from: TransportAddress)? {
        var pfd = pollfd(fd: descriptor, events: Int16(ice_POLLIN), revents: 0)
        while true {
            let r = poll(&pfd, 1, timeoutMilliseconds)
            if r < 0 {
                if ice_errno() == ice_EINTR { continue }
                throw .poll(ice_errno())
            }
            if r == 0 { return nil }
            break
        }
        var from = SocketAddress()
        let n = from.withSockaddr { p, len in recvfrom(descriptor, buffer.baseAddress, buffer.count, 0, p, len) }
        guard n >= 0 else { throw .receive(ice_errno()) }
        guard let source = from.transportAddress else { throw .addressFamily }
        return (n, source)
    }
}

/// socket + options + bind (+ listen) + non-blocking, and the address the kernel bound
/// (port 0 picks an ephemeral one). IPv6 sockets are IPv6-only: each family has its own base.
func openBoundSocket(_ address: TransportAddress, type: Int32, listening: Bool) throws(SocketError) -> (Int32, TransportAddress) {
    let fd = socket(address.ip.isIPv4 ? ice_AF_INET : ice_AF_INET6, type | ice_SOCK_CLOEXEC, 0)
    guard fd >= 0 else { throw .socket(ice_errno()) }
    var on: Int32 = 1
    if address.ip.isIPv6 {
        _ = setsockopt(fd, ice_IPPROTO_IPV6, ice_IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
    }
    if listening {
        _ = setsockopt(fd, ice_SOL_SOCKET, ice_SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    }
    var sa = SocketAddress(address)
    guard sa.withSockaddr({ p, len in CLinux.bind(fd, p, len.pointee) }) == 0, !listening || listen(fd, ice_SOMAXCONN) == 0 else {
        let e = ice_errno()
        close(fd)
        throw .bind(e)
    }
    // The event loop reads until EAGAIN.
    _ = ice_set_nonblocking(fd)
    var bound = SocketAddress()
    _ = bound.withSockaddr { p, len in getsockname(fd, p, len) }
    return (fd, bound.transportAddress ?? address)
}
