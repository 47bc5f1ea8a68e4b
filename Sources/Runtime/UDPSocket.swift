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

/// A bound UDP socket. Owns its descriptor and closes it on deinit or `close()`.
public final class UDPSocket {
    /// -1 once closed: a stale reference must not reach a socket that reused the number.
    public private(set) var descriptor: Int32
    public let localAddress: TransportAddress
    /// Datagrams longer than the caller's buffer, dropped unread: a truncated STUN message or
    /// RTP packet handed on as if whole would be misparsed or forwarded cut.
    public private(set) var truncatedDatagrams = 0

    /// Truncated datagrams skipped in one receive call before it returns nil, so a flood of
    /// oversized datagrams costs the event loop a bounded number of reads per wakeup.
    static let truncatedSkipLimit = 16

    /// Opens a socket bound to `address` (port 0 picks an ephemeral port).
    public init(bind address: TransportAddress) throws(SocketError) {
        (descriptor, localAddress) = try openBoundSocket(address, type: ice_SOCK_DGRAM, listening: false)
    }

    deinit { close() }

    /// Releases the descriptor and the port now, not when the last reference goes: whoever
    /// still holds the object (a request finishing on the loop) must not keep the port bound.
    public func close() {
        guard descriptor >= 0 else { return }
        _ = CLinux.close(descriptor)
        descriptor = -1
    }

    public func send(_ bytes: UnsafeRawBufferPointer, to address: TransportAddress) throws(SocketError) {
        var sa = SocketAddress(address)
        let n = sa.withSockaddr { p, len in sendto(descriptor, bytes.baseAddress, bytes.count, 0, p, len.pointee) }
        guard n >= 0 else { throw .send(ice_errno()) }
    }

    /// Reads one datagram without waiting; nil when none is queued. Datagrams longer than
    /// `buffer` are counted in `truncatedDatagrams` and dropped.
    public func tryReceive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> (count: Int, from: TransportAddress)? {
        for _ in 0..<Self.truncatedSkipLimit {
            switch try receiveQueued(into: buffer) {
            case .datagram(let n, let source): return (n, source)
            case .truncated: continue
            case .none: return nil
            }
        }
        return nil
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for a datagram. Nil on timeout.
    /// Datagrams longer than `buffer` are counted and dropped, and the wait goes on.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) throws(SocketError) -> (count: Int, from: TransportAddress)? {
        let deadline = timeoutMilliseconds < 0 ? nil : monotonicNow() + .milliseconds(Int64(timeoutMilliseconds))
        while true {
            var wait = timeoutMilliseconds
            if let deadline {
                let left = (deadline - monotonicNow()).nanoseconds
                wait = left <= 0 ? 0 : Int32(clamping: (left + 999_999) / 1_000_000)
            }
            var pfd = pollfd(fd: descriptor, events: Int16(ice_POLLIN), revents: 0)
            let r = poll(&pfd, 1, wait)
            if r < 0 {
                if ice_errno() == ice_EINTR { continue }
                throw .poll(ice_errno())
            }
            if r == 0 { return nil }
            if case .datagram(let n, let source) = try receiveQueued(into: buffer) { return (n, source) }
        }
    }

    enum Received {
        case datagram(Int, TransportAddress)
        /// Longer than the buffer: counted and dropped.
        case truncated
        /// Nothing queued (or interrupted).
        case none
    }

    /// One non-blocking recvfrom.
    func receiveQueued(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Received {
        var from = SocketAddress()
        // MSG_TRUNC (udp(7)): the datagram's real length is returned even when it exceeds
        // the buffer, which is how a cut datagram is told from one that fit exactly.
        let n = from.withSockaddr { p, len in
            recvfrom(descriptor, buffer.baseAddress, buffer.count, ice_MSG_DONTWAIT | ice_MSG_TRUNC, p, len)
        }
        if n < 0 {
            let e = ice_errno()
            if e == ice_EAGAIN || e == ice_EINTR { return .none }
            throw .receive(e)
        }
        if n > buffer.count {
            dropTruncated(n, capacity: buffer.count)
            return .truncated
        }
        guard let source = from.transportAddress else { throw .addressFamily }
        return .datagram(n, source)
    }

    func dropTruncated(_ length: Int, capacity: Int) {
        truncatedDatagrams += 1
        // Once per socket: a flood must not turn into a flood of log lines.
        if truncatedDatagrams == 1 {
            Log.warning("UDP \(localAddress): a \(length)-byte datagram exceeds the \(capacity)-byte buffer: dropped (further ones are counted)")
        }
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
