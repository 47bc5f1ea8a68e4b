import CLinux
import Common

/// The kernel's notifications of link and address changes (an rtnetlink socket subscribed to
/// RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR) on the event loop: no polling. Each
/// datagram goes to `onDatagram` as read; nil means the kernel dropped notifications (ENOBUFS)
/// and the owner must look at every interface again. Interpreting them is `RTNetlinkParser`'s.
public final class RouteMonitor: ReadableHandler {
    public let descriptor: Int32
    let loop: EventLoop
    let onDatagram: (UnsafeRawBufferPointer?, Instant) -> Void
    var buffer = [UInt8](repeating: 0, count: 8192)
    /// Datagrams read in one wakeup at most, so a storm of changes cannot hold the loop.
    static let maxPerWakeup = 32

    public init(loop: EventLoop, _ onDatagram: @escaping (UnsafeRawBufferPointer?, Instant) -> Void) throws(SocketError) {
        let fd = ice_open_route_monitor()
        guard fd >= 0 else { throw .socket(ice_errno()) }
        descriptor = fd
        self.loop = loop
        self.onDatagram = onDatagram
        do throws(EventLoop.Failure) { try loop.register(fd: fd, self) } catch {
            _ = CLinux.close(fd)
            throw .poll(ice_errno())
        }
    }

    public func readable(now: Instant) {
        for _ in 0..<Self.maxPerWakeup {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                let e = ice_errno()
                if e == ice_ENOBUFS {
                    onDatagram(nil, now)
                    continue
                }
                return  // EAGAIN: drained
            }
            buffer.withUnsafeBytes { onDatagram(UnsafeRawBufferPointer(rebasing: $0[0..<n]), now) }
        }
    }

    public func close() {
        loop.unregister(fd: descriptor)
        _ = CLinux.close(descriptor)
    }
}
