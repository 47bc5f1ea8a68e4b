import CLinux
import Common
import RTNetlink
import Runtime

/// Watches the host's interfaces for a session without polling: the kernel's rtnetlink
/// notifications (`RouteMonitor`), read by `RTNetlinkParser`. A burst of changes (DHCP, a
/// Wi-Fi reconnect, IPv6 addresses leaving DAD) settles for `settle`, then the session is told
/// the addresses the owner's filter gives now (`Session.networkChanged`).
public final class NetworkWatcher: TimerClient, ReadableHandler {
    let session: Session
    let loop: EventLoop
    let addresses: () -> [IPAddress]
    let monitor: RouteMonitor
    var buffer = [UInt8](repeating: 0, count: 8192)
    var due: Instant? = nil
    var closed = false
    /// Malformed notifications, dropped (the first is logged).
    public private(set) var malformed = 0
    static let settle = Interval.milliseconds(100)
    /// Datagrams read in one wakeup at most, so a storm of changes cannot hold the loop.
    static let maxPerWakeup = 32

    /// `addresses`: the host's usable addresses as the session's owner gathers them (its
    /// interface filter applied). Throws when the kernel refuses the socket (no netlink in a
    /// restricted container): the caller logs it and goes on without watching.
    public init(session: Session, loop: EventLoop, addresses: @escaping () -> [IPAddress]) throws(SocketError) {
        self.session = session
        self.loop = loop
        self.addresses = addresses
        monitor = try RouteMonitor()
        do throws(EventLoop.Failure) { try loop.register(fd: monitor.descriptor, self) } catch {
            monitor.close()
            throw .poll(ice_errno())
        }
        loop.addTimerClient(self)
    }

    public func readable(now: Instant) {
        for _ in 0..<Self.maxPerWakeup {
            let r = buffer.withUnsafeMutableBytes { monitor.receive(into: $0) }
            switch r {
            case .datagram(let n): buffer.withUnsafeBytes { received(UnsafeRawBufferPointer(rebasing: $0[0..<n]), now: now) }
            case .lost: received(nil, now: now)
            case .drained: return
            }
        }
    }

    func received(_ datagram: UnsafeRawBufferPointer?, now: Instant) {
        guard let datagram else {
            // Notifications were lost: look at everything again.
            schedule(now)
            return
        }
        var relevant = false
        do throws(RTNetlinkError) {
            try RTNetlinkParser.parse(datagram) { change in
                switch change {
                case .addressAdded(_, _, let usable): if usable { relevant = true }
                case .addressRemoved, .linkChanged, .linkRemoved, .lost: relevant = true
                }
            }
        } catch {
            malformed += 1
            if malformed == 1 { Log.warning("network: \(error.description) (dropped)") }
        }
        if relevant { schedule(now) }
    }

    func schedule(_ now: Instant) {
        if due == nil { due = now + Self.settle }
    }

    public var nextDeadline: Instant? { due }

    public func handleTimeout(now: Instant) {
        guard let d = due, now >= d else { return }
        due = nil
        session.networkChanged(addresses: addresses(), now: now)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        loop.unregister(fd: monitor.descriptor)
        loop.removeTimerClient(self)
        monitor.close()
        due = nil
    }
}
