import Common

/// A machine with one or more interface addresses, on the public internet or behind a NAT.
public final class Host {
    let name: String
    let addresses: [IPAddress]
    /// The NAT whose private realm this host is in, nil on the public internet.
    public let nat: NAT?
    public var uplink: LinkConditions
    var downlink: LinkConditions
    /// Both directions at once (reads the uplink).
    public var link: LinkConditions {
        get { uplink }
        set { uplink = newValue; downlink = newValue }
    }

    /// Endpoints bound to exact transport addresses, and the one taking everything else.
    var bound: [TransportAddress: Int] = [:]
    var wildcard: Int?

    init(name: String, addresses: [IPAddress], nat: NAT?, link: LinkConditions) {
        self.name = name
        self.addresses = addresses
        self.nat = nat
        self.uplink = link
        self.downlink = link
    }

    /// The first interface address.
    public var address: IPAddress { addresses[0] }

    /// A transport address on interface `interface` (index into `addresses`).
    public func transportAddress(port: UInt16, interface: Int = 0) -> TransportAddress {
        TransportAddress(addresses[interface], port)
    }
}
