import Common

/// Building the simulated world: NATs, hosts, sites and the endpoints on them.
extension Network {
    struct Attached {
        var endpoint: any SimulatedEndpoint
        var host: Host
        var name: String
        var addresses: [TransportAddress]?
    }

    func realm(inside nat: NAT?) -> Realm {
        guard let nat else { return publicRealm }
        return innerRealms[ObjectIdentifier(nat)]!
    }

    func claim(_ address: IPAddress, in realm: Realm, for owner: Realm.Owner, _ what: String) {
        if realm.owners[address] != nil {
            preconditionFailure("Network: \(address) is already used \(realm.name) (adding \(what))")
        }
        realm.owners[address] = owner
    }

    @discardableResult
    public func addNAT(name: String, publicAddress: IPAddress, mapping: NATBehavior, filtering: NATBehavior,
                bindingTimeout: Interval = .seconds(120), behind outer: NAT? = nil) -> NAT {
        addNAT(name: name, publicAddress: publicAddress, type: NATType(mapping: mapping, filtering: filtering),
               bindingTimeout: bindingTimeout, behind: outer)
    }

    @discardableResult
    public func addNAT(name: String, publicAddress: IPAddress, type: NATType,
                bindingTimeout: Interval = .seconds(120), behind outer: NAT? = nil) -> NAT {
        let nat = NAT(name: name, publicAddress: publicAddress, type: type, bindingTimeout: bindingTimeout, behind: outer)
        claim(publicAddress, in: realm(inside: outer), for: .nat(nat), "NAT \(name)")
        innerRealms[ObjectIdentifier(nat)] = Realm(gateway: nat)
        nats.append(nat)
        return nat
    }

    @discardableResult
    public func addHost(name: String, addresses: [IPAddress], behind nat: NAT? = nil) -> Host {
        precondition(!addresses.isEmpty, "Network: host \(name) needs at least one address")
        let host = Host(name: name, addresses: addresses, nat: nat, link: defaultHostLink)
        for a in addresses { claim(a, in: realm(inside: nat), for: .host(host), "host \(name)") }
        hosts.append(host)
        return host
    }

    /// A host at `placement`: on the public internet at `publicAddress`, or at
    /// `privateAddress` behind a new NAT named "\(name)-nat" whose public address is
    /// `publicAddress`.
    @discardableResult
    public func addSite(name: String, placement: NATPlacement, publicAddress: IPAddress, privateAddress: IPAddress,
                 bindingTimeout: Interval = .seconds(120)) -> Host {
        guard let type = placement.natType else { return addHost(name: name, addresses: [publicAddress]) }
        let nat = addNAT(name: "\(name)-nat", publicAddress: publicAddress, type: type, bindingTimeout: bindingTimeout)
        return addHost(name: name, addresses: [privateAddress], behind: nat)
    }

    /// Puts `endpoint` on `host`. With `addresses`, it receives only datagrams to those exact
    /// transport addresses and may only send from them; without, it owns every port of the
    /// host's addresses that no other endpoint bound (one such endpoint per host).
    public func attach(_ endpoint: some SimulatedEndpoint, to host: Host, addresses: [TransportAddress]? = nil,
                name: String? = nil) {
        precondition(!endpoints.contains { $0.endpoint === endpoint }, "Network: endpoint attached twice")
        let index = endpoints.count
        let label = name ?? (host.bound.isEmpty && host.wildcard == nil ? host.name : "\(host.name)#\(index)")
        if let addresses {
            for a in addresses {
                precondition(host.addresses.contains(a.ip), "Network: \(a) is not an address of host \(host.name)")
                precondition(host.bound[a] == nil, "Network: \(a) is already bound on host \(host.name)")
                host.bound[a] = index
            }
        } else {
            precondition(host.wildcard == nil, "Network: host \(host.name) already has an endpoint for all ports")
            host.wildcard = index
        }
        endpoints.append(Attached(endpoint: endpoint, host: host, name: label, addresses: addresses))
    }
}
