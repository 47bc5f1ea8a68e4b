import CLinux
import Common

/// A local interface address from getifaddrs(3).
public struct InterfaceAddress: Sendable {
    public var name: String
    public var address: IPAddress
    public var isLoopback: Bool
}

/// Which interface addresses to gather host candidates on.
public struct InterfaceFilter: Sendable {
    public var includeLoopback = false
    public var includeLinkLocal = false
    /// Only these interface names (empty: all).
    public var include: [String] = []
    public var exclude: [String] = []
    public init() {}
}

/// Up interfaces' IPv4 and IPv6 addresses, filtered (RFC 8445 §5.1.1.1: loopback and
/// link-local only when asked).
public func interfaceAddresses(_ filter: InterfaceFilter = InterfaceFilter()) -> [InterfaceAddress] {
    var list: UnsafeMutablePointer<ifaddrs>? = nil
    guard getifaddrs(&list) == 0 else { return [] }
    defer { freeifaddrs(list) }
    var out: [InterfaceAddress] = []
    var node = list
    while let n = node {
        defer { node = n.pointee.ifa_next }
        guard let sa = n.pointee.ifa_addr, let cname = n.pointee.ifa_name else { continue }
        let flags = Int32(bitPattern: n.pointee.ifa_flags)
        guard flags & ice_IFF_UP != 0 else { continue }
        let name = String(cString: cname)
        let loopback = flags & ice_IFF_LOOPBACK != 0
        if loopback && !filter.includeLoopback { continue }
        if !filter.include.isEmpty && !filter.include.contains(name) { continue }
        if filter.exclude.contains(name) { continue }
        let family = Int32(sa.pointee.sa_family)
        guard family == ice_AF_INET || family == ice_AF_INET6 else { continue }
        var storage = SocketAddress()
        withUnsafeMutableBytes(of: &storage.storage) { dst in
            let size = family == ice_AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
            dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: size))
        }
        guard let ip = storage.transportAddress?.ip else { continue }
        if ip.isLinkLocal && !filter.includeLinkLocal { continue }
        out.append(InterfaceAddress(name: name, address: ip, isLoopback: loopback))
    }
    return out
}
