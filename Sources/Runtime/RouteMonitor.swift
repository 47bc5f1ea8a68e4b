import CLinux
import Common

/// The kernel's notifications of link and address changes: an rtnetlink socket subscribed to
/// RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR, non-blocking, for an owner that
/// registers `descriptor` on its event loop (no polling). Interpreting the datagrams is
/// `RTNetlinkParser`'s.
public final class RouteMonitor {
    public let descriptor: Int32

    public enum Received {
        /// A datagram of `count` bytes is at the start of the buffer.
        case datagram(count: Int)
        /// The kernel dropped notifications (ENOBUFS): look at every interface again.
        case lost
        /// Nothing more to read now.
        case drained
    }

    public init() throws(SocketError) {
        let fd = ice_open_route_monitor()
        guard fd >= 0 else { throw .socket(ice_errno()) }
        descriptor = fd
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Received {
        while true {
            let n = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return .datagram(count: n) }
            let e = ice_errno()
            if e == ice_EINTR { continue }
            return e == ice_ENOBUFS ? .lost : .drained
        }
    }

    public func close() { _ = CLinux.close(descriptor) }
}
