import Common
import RTNetlink
import Runtime

/// Watches the host's interfaces for a session without polling: the kernel's rtnetlink
/// notifications (`RouteMonitor`), read by `RTNetlinkParser`. A burst of changes (DHCP, a
/// Wi-Fi reconnect, IPv6 addresses leaving DAD) settles for `settle`, then the session is told
/// the addresses the owner's filter gives now (`Session.networkChanged`).
public final class NetworkWatcher: TimerClient {
    let session: Session
    let addresses: () -> [IPAddress]
    var monitor: RouteMonitor? = nil
    var due: Instant? = nil
    /// Malformed notifications, dropped (the first is logged).
    public private(set) var malformed = 0
    static let settle = Interval.milliseconds(100)

    /// `addresses`: the host's usable addresses as the session's owner gathers them (its
    /// interface filter applied). Throws when the kernel refuses the socket (no netlink in a
    /// restricted container): the caller logs it and goes on without watching.
    public init(session: Session, loop: EventLoop, addresses: @escaping () -> [IPAddress]) throws(SocketError) {
        self.session = session
        self.addresses = addresses
        monitor = try RouteMonitor(loop: loop) { [unowned self] datagram, now in self.received(datagram, now: now) }
        loop.addTimerClient(self)
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
        monitor?.close()
        monitor = nil
        due = nil
    }
}
