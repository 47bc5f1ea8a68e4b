import CLinux
import Common

/// Why the mDNS querying socket could not be set up.
public enum MDNSSocketError: Error, Equatable {
    case socket(SocketError)
    /// setsockopt(IPPROTO_IP, option) failed with errno.
    case option(Int32, Int32)

    public var description: String {
        switch self {
        case .socket(let e): return e.description
        case .option(let o, let e): return "setsockopt(IPPROTO_IP, \(o)) failed: errno \(e)"
        }
    }
}

/// The socket a one-shot mDNS querier sends from (RFC 6762 §5.1): IPv4, an ephemeral port
/// (never 5353, so responders answer it by unicast, §6.7), multicast TTL 255 (§11: receivers
/// may check it), optionally one interface for its multicast.
public enum MDNSSocket {
    // Linux UAPI values (include/uapi/linux/in.h), the same on every architecture and libc.
    static let ipprotoIP: Int32 = 0
    static let ipMulticastIF: Int32 = 32
    static let ipMulticastTTL: Int32 = 33

    /// Binds 0.0.0.0:0, so unicast answers arrive whatever address they are sent to, and
    /// sends multicast out of `interface` (an IPv4 address of the chosen interface) or, if
    /// nil, the interface the routing table picks for the group.
    public static func open(interface: IPAddress? = nil) throws(MDNSSocketError) -> UDPSocket {
        let socket: UDPSocket
        do throws(SocketError) {
            socket = try UDPSocket(bind: TransportAddress(.v4Any, 0))
        } catch {
            throw .socket(error)
        }
        // RFC 6762 §11: an IP TTL of 255 on every mDNS packet.
        var ttl: Int32 = 255
        guard setsockopt(socket.descriptor, ipprotoIP, ipMulticastTTL, &ttl, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .option(ipMulticastTTL, ice_errno())
        }
        if let interface {
            guard case .v4(let a) = interface else { throw .socket(.addressFamily) }
            var address = in_addr(s_addr: a.bigEndian)
            guard setsockopt(socket.descriptor, ipprotoIP, ipMulticastIF, &address, socklen_t(MemoryLayout<in_addr>.size)) == 0 else {
                throw .option(ipMulticastIF, ice_errno())
            }
        }
        return socket
    }
}

/// A socket on the mDNS port that has joined the IPv4 group (RFC 6762 §3, §5.2): responders
/// that answer a one-shot query by multicast, as browsers' do for their ".local" names,
/// reach the querier only here. Bound with SO_REUSEADDR, so it shares the port with the
/// host's own mDNS daemon if both ask for sharing. It only receives.
public final class MDNSListener {
    static let ipAddMembership: Int32 = 35  // include/uapi/linux/in.h
    /// 224.0.0.251 (RFC 6762 §3); the runtime does not depend on module MDNS.
    static let group: UInt32 = 0xE000_00FB

    /// -1 once closed.
    public private(set) var descriptor: Int32
    public let port: UInt16

    /// Binds 0.0.0.0:`port` and joins 224.0.0.251 on `interface` (nil: the kernel's choice).
    public init(port: UInt16 = 5353, interface: IPAddress? = nil) throws(MDNSSocketError) {
        let fd = socket(ice_AF_INET, ice_SOCK_DGRAM | ice_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw .socket(.socket(ice_errno())) }
        var on: Int32 = 1
        _ = setsockopt(fd, ice_SOL_SOCKET, ice_SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var sa = SocketAddress(TransportAddress(.v4Any, port))
        guard sa.withSockaddr({ p, len in bind(fd, p, len.pointee) }) == 0 else {
            let e = ice_errno()
            _ = CLinux.close(fd)
            throw .socket(.bind(e))
        }
        var local: UInt32 = 0
        if let interface {
            guard case .v4(let a) = interface else {
                _ = CLinux.close(fd)
                throw .socket(.addressFamily)
            }
            local = a
        }
        var request = ip_mreq(imr_multiaddr: in_addr(s_addr: Self.group.bigEndian), imr_interface: in_addr(s_addr: local.bigEndian))
        guard setsockopt(fd, MDNSSocket.ipprotoIP, Self.ipAddMembership, &request, socklen_t(MemoryLayout<ip_mreq>.size)) == 0 else {
            let e = ice_errno()
            _ = CLinux.close(fd)
            throw .option(Self.ipAddMembership, e)
        }
        _ = ice_set_nonblocking(fd)
        descriptor = fd
        self.port = port
    }

    deinit { close() }

    public func close() {
        guard descriptor >= 0 else { return }
        _ = CLinux.close(descriptor)
        descriptor = -1
    }

    /// One queued datagram's length, nil when none is queued; one longer than `buffer` is
    /// dropped and the next one read (at most 16 per call).
    public func tryReceive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        for _ in 0..<16 {
            let n = recv(descriptor, buffer.baseAddress, buffer.count, ice_MSG_DONTWAIT | ice_MSG_TRUNC)
            if n < 0 { return nil }
            if n <= buffer.count { return n }
        }
        return nil
    }
}
