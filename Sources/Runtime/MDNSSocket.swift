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
