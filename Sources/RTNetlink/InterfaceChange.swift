import Common

/// What the kernel said changed about the host's interfaces (rtnetlink(7)), as the agent needs
/// it: an address that a host candidate may use came or went, a link went up or down.
public enum InterfaceChange: Equatable, Sendable {
    /// `usable`: not tentative (IPv6 duplicate address detection still running) and not
    /// failed DAD; a socket can be bound to it now (RFC 4862 §5.4).
    case addressAdded(interface: UInt32, address: IPAddress, usable: Bool)
    case addressRemoved(interface: UInt32, address: IPAddress)
    /// `up`: administratively up with a carrier (IFF_UP and IFF_LOWER_UP).
    case linkChanged(interface: UInt32, up: Bool)
    case linkRemoved(interface: UInt32)
    /// The kernel dropped notifications (the socket's buffer overflowed, ENOBUFS): the
    /// listener must look at every interface again.
    case lost
}
