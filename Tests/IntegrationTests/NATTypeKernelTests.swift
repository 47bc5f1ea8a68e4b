import Foundation
import TestSupport
import Testing

/// `ice-agent nat-type` behind each of the five kernel NATs of `KernelNATKind` (nftables in
/// network namespaces), against `ice-agent stun server --alternate` on the simulated internet;
/// coturn's `turnutils_natdiscovery` (Debian `coturn`) runs against the same server from the
/// same host and must agree. Needs root, iproute2, nftables and coturn; a missing one fails
/// with its install command.
@Suite(.serialized) struct NATTypeKernelTests {
    static let primary = "198.51.100.10"
    static let alternate = "198.51.100.11"

    struct Expected {
        var mapping: String
        var filtering: String
        var natType: String
    }

    static func expected(_ kind: KernelNATKind) -> Expected {
        switch kind {
        case .open: return Expected(mapping: "no-nat", filtering: "endpoint-independent", natType: "open")
        case .fullCone: return Expected(mapping: "endpoint-independent", filtering: "endpoint-independent", natType: "full-cone")
        case .addressRestricted:
            return Expected(mapping: "endpoint-independent", filtering: "address-dependent", natType: "restricted-cone")
        case .portRestricted:
            return Expected(mapping: "endpoint-independent", filtering: "address-and-port-dependent",
                            natType: "port-restricted-cone")
        case .symmetric:
            return Expected(mapping: "address-and-port-dependent", filtering: "address-and-port-dependent", natType: "symmetric")
        }
    }

    /// turnutils_natdiscovery's verdict lines, in our names.
    static func coturnVerdicts(_ output: String) -> (mapping: String?, filtering: String?) {
        let mappings = [("No NAT! (Endpoint Independent Mapping)", "no-nat"),
                        ("NAT with Endpoint Independent Mapping!", "endpoint-independent"),
                        ("NAT with Address Dependent Mapping!", "address-dependent"),
                        ("NAT with Address and Port Dependent Mapping!", "address-and-port-dependent")]
        let filterings = [("NAT with Endpoint Independent Filtering!", "endpoint-independent"),
                          ("NAT with Address Dependent Filtering!", "address-dependent"),
                          ("NAT with Address and Port Dependent Filtering!", "address-and-port-dependent")]
        return (mappings.first { output.contains($0.0) }?.1, filterings.first { output.contains($0.0) }?.1)
    }

    @Test(arguments: KernelNATKind.allCases)
    func natTypeAndCoturnAgree(_ kind: KernelNATKind) throws {
        let discovery = try requireTool("turnutils_natdiscovery", install: "apt-get install -y coturn")
        let agent = try iceAgentPath()
        let net = try KernelInternet(name: "nt", serverAddresses: [Self.primary, Self.alternate])
        defer { net.tearDown() }
        let site = try net.addSite(kind)
        let (serverPath, serverArguments) = net.command(
            in: net.internet, [agent, "stun", "server", "--listen", "\(Self.primary):3478", "--alternate", "\(Self.alternate):3479"])
        let server = try Background(serverPath, serverArguments)
        defer { server.stop() }
        #expect(waitUntil { server.output.contains("STUN server listening") }, "\(server.output)")

        let want = Self.expected(kind)
        let (path, arguments) = net.command(in: site.host, [agent, "nat-type", "--stun", "\(Self.primary):3478", "--json"])
        let ours = try run(path, arguments, timeout: 40)
        #expect(ours.status == 0, "\(kind): \(ours.stdout) \(ours.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ours.stdout.utf8)) as? [String: Any],
                                "\(kind): \(ours.stdout) \(ours.stderr)")
        #expect(json["mapping"] as? String == want.mapping, "\(kind): \(ours.stdout)")
        #expect(json["filtering"] as? String == want.filtering, "\(kind): \(ours.stdout)")
        #expect(json["nat_type"] as? String == want.natType, "\(kind): \(ours.stdout)")
        #expect(json["other_address"] as? String == "\(Self.alternate):3479")
        let mapped = json["mapped_address"] as? String ?? ""
        #expect(mapped.hasPrefix((kind == .open ? site.hostAddress : site.publicAddress) + ":"), "\(kind): \(mapped)")
        // These routers do not hairpin (their DNAT matches the WAN side only).
        #expect(json["hairpinning"] as? String == (kind == .open ? "not-tested" : "not-observed"), "\(kind): \(ours.stdout)")

        // The independent implementation from the same host against the same server.
        let (cPath, cArguments) = net.command(
            in: site.host, [discovery, "-m", "-f", "-L", site.hostAddress, "-p", "3478", Self.primary])
        let coturn = try run(cPath, cArguments, timeout: 90)
        let verdicts = Self.coturnVerdicts(coturn.stdout)
        #expect(verdicts.mapping == want.mapping, "\(kind): turnutils_natdiscovery said\n\(coturn.stdout)\(coturn.stderr)")
        #expect(verdicts.filtering == want.filtering, "\(kind): turnutils_natdiscovery said\n\(coturn.stdout)\(coturn.stderr)")
    }

    @Test(arguments: [KernelNATKind.fullCone, .portRestricted])
    func hairpinningRouterIsSeen(_ kind: KernelNATKind) throws {
        // RFC 5780 §4.5 on a router that loops LAN packets for its WAN address back in; coturn's
        // natdiscovery -H must see it too.
        let discovery = try requireTool("turnutils_natdiscovery", install: "apt-get install -y coturn")
        let agent = try iceAgentPath()
        let net = try KernelInternet(name: "hp", serverAddresses: [Self.primary, Self.alternate])
        defer { net.tearDown() }
        let site = try net.addSite(kind, hairpinning: true)
        let (serverPath, serverArguments) = net.command(
            in: net.internet, [agent, "stun", "server", "--listen", "\(Self.primary):3478", "--alternate", "\(Self.alternate):3479"])
        let server = try Background(serverPath, serverArguments)
        defer { server.stop() }
        #expect(waitUntil { server.output.contains("STUN server listening") }, "\(server.output)")
        let (path, arguments) = net.command(in: site.host, [agent, "nat-type", "--stun", "\(Self.primary):3478", "--json"])
        let r = try run(path, arguments, timeout: 40)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(json["hairpinning"] as? String == "supported", "\(kind): \(r.stdout)")
        #expect(json["nat_type"] as? String == Self.expected(kind).natType, "\(kind): \(r.stdout)")
        let (cPath, cArguments) = net.command(in: site.host, [discovery, "-H", "-L", site.hostAddress, "-p", "3478", Self.primary])
        let coturn = try run(cPath, cArguments, timeout: 60)
        #expect(coturn.stdout.contains("Received a request (maybe a successful hairpinning)"), "\(coturn.stdout)\(coturn.stderr)")
    }

    @Test func mappingLifetimeBehindConntrack() throws {
        // RFC 5780 §4.6 against a port-restricted NAT whose idle UDP mappings last 12 s: idle
        // rounds of 5 and 10 s find the mapping, 20 s does not.
        let agent = try iceAgentPath()
        let net = try KernelInternet(name: "lt", serverAddresses: [Self.primary, Self.alternate])
        defer { net.tearDown() }
        let site = try net.addSite(.portRestricted)
        try net.setUDPMappingTimeout(site, seconds: 12)
        let (serverPath, serverArguments) = net.command(
            in: net.internet, [agent, "stun", "server", "--listen", "\(Self.primary):3478", "--alternate", "\(Self.alternate):3479"])
        let server = try Background(serverPath, serverArguments)
        defer { server.stop() }
        #expect(waitUntil { server.output.contains("STUN server listening") }, "\(server.output)")
        let (path, arguments) = net.command(
            in: site.host, [agent, "nat-type", "--stun", "\(Self.primary):3478", "--json", "--no-hairpinning", "--lifetime", "60"])
        let r = try run(path, arguments, timeout: 120)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(json["nat_type"] as? String == "port-restricted-cone", "\(r.stdout)")
        #expect(json["lifetime_alive_s"] as? Int == 10, "\(r.stdout)")
        #expect(json["lifetime_gone_s"] as? Int == 20, "\(r.stdout)")
    }

    @Test func namespacesAreRemovedOnFailureAndTearDown() throws {
        let prefix = "kn\(getpid() % 100_000)"
        // The same address twice on the internet's loopback: `ip addr add` fails half-way.
        #expect(throws: (any Error).self) { _ = try KernelInternet(name: "nf", serverAddresses: [Self.primary, Self.primary]) }
        var list = try run("/usr/sbin/ip", ["netns", "list"]).stdout
        #expect(!list.contains(prefix + "nf-"), "left behind:\n\(list)")

        let net = try KernelInternet(name: "ng", serverAddresses: [Self.primary])
        try net.addSite(.portRestricted)
        let names = net.namespaces
        #expect(names.count == 3)
        list = try run("/usr/sbin/ip", ["netns", "list"]).stdout
        for n in names { #expect(list.contains(n), "\(n) missing:\n\(list)") }
        net.tearDown()
        list = try run("/usr/sbin/ip", ["netns", "list"]).stdout
        for n in names { #expect(!list.contains(n), "\(n) left behind:\n\(list)") }
    }
}
