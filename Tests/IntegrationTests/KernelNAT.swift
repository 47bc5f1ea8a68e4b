import Foundation
import TestSupport

/// The five classic RFC 4787 placements of a host, built with real kernel NATs (nftables and
/// conntrack in network namespaces; recipes and traps in /work/shared/notes/kernel-nat.md).
enum KernelNATKind: String, CaseIterable, CustomStringConvertible, Sendable {
    /// The host has a public address; the router only routes.
    case open
    /// EIM, EIF: SNAT keeping the port, plus a DNAT of any inbound UDP to the host.
    case fullCone
    /// EIM, ADF: as full cone, but the DNAT applies only to (remote IP, port) the host sent from.
    case addressRestricted
    /// EIM, APDF: plain conntrack SNAT.
    case portRestricted
    /// APDM, APDF: SNAT with a random port per 5-tuple.
    case symmetric

    var description: String { rawValue }
}

/// A simulated internet in one network namespace: server addresses on its loopback (the
/// TEST-NET ranges, which nothing outside the namespaces sees), and sites attached to it, each
/// a host namespace behind a router namespace doing one `KernelNATKind`. Every namespace is
/// removed by `tearDown()` (call it in a `defer`), also when setting up failed half-way.
final class KernelInternet {
    let prefix: String
    let internet: String
    private(set) var namespaces: [String] = []
    private(set) var sites: [KernelNATSite] = []
    private var tornDown = false

    /// Fails with the install command when a tool is missing, and without root.
    static func requirePrerequisites() throws {
        guard geteuid() == 0 else {
            throw TestFailure("kernel NAT tests need root (network namespaces): run `sudo ICE_SYSTEM_TESTS=1 swift test --filter IntegrationTests`")
        }
        _ = try requireTool("ip", install: "apt-get install -y iproute2")
        _ = try requireTool("nft", install: "apt-get install -y nftables")
    }

    /// `serverAddresses` (e.g. "198.51.100.10") are put on the internet namespace's loopback.
    init(name: String, serverAddresses: [String]) throws {
        try Self.requirePrerequisites()
        // Short and unique per process: several test processes may build labs at once.
        prefix = "kn\(getpid() % 100_000)\(name)"
        internet = prefix + "-i"
        do {
            try addNamespace(internet)
            for a in serverAddresses { try ip(["-n", internet, "addr", "add", a + "/32", "dev", "lo"]) }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    /// A host behind a router of `kind`, as site number `sites.count` (so up to 30 sites),
    /// hairpinning or not.
    /// Site n: router WAN 203.0.113.(8n+1)/30 towards the internet's 203.0.113.(8n+2); behind a
    /// NAT the host is 10.0.n.2/24 (router 10.0.n.1), in the open it is 192.0.2.(16n+2)/28.
    @discardableResult
    func addSite(_ kind: KernelNATKind, hairpinning: Bool = false) throws -> KernelNATSite {
        let n = sites.count
        precondition(n < 30, "KernelInternet: at most 30 sites")
        let site = KernelNATSite(kind: kind, index: n, prefix: prefix, hairpinning: hairpinning)
        do {
            try addNamespace(site.host)
            try addNamespace(site.router)
            // Links created from inside the namespaces: no name in the root namespace to collide.
            try ip(["-n", site.host, "link", "add", "h0", "type", "veth", "peer", "name", "r0", "netns", site.router])
            try ip(["-n", site.router, "link", "add", "r1", "type", "veth", "peer", "name", "s\(n)", "netns", internet])
            try ip(["-n", site.host, "addr", "add", site.hostAddress + "/\(site.lanPrefixLength)", "dev", "h0"])
            try ip(["-n", site.host, "link", "set", "h0", "up"])
            try ip(["-n", site.host, "route", "add", "default", "via", site.routerLANAddress])
            try ip(["-n", site.router, "addr", "add", site.routerLANAddress + "/\(site.lanPrefixLength)", "dev", "r0"])
            try ip(["-n", site.router, "link", "set", "r0", "up"])
            try ip(["-n", site.router, "addr", "add", site.publicAddress + "/30", "dev", "r1"])
            try ip(["-n", site.router, "link", "set", "r1", "up"])
            try ip(["-n", site.router, "route", "add", "default", "via", site.internetSideAddress])
            try ip(["-n", internet, "addr", "add", site.internetSideAddress + "/30", "dev", "s\(n)"])
            try ip(["-n", internet, "link", "set", "s\(n)", "up"])
            if kind == .open {
                try ip(["-n", internet, "route", "add", site.lanSubnet, "via", site.publicAddress])
            }
            try exec(site.router, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
            if let rules = site.nftRules {
                let r = try run("/usr/sbin/ip", ["netns", "exec", site.router, "nft", "-f", "-"], stdin: rules)
                guard r.status == 0 else { throw TestFailure("nft -f in \(site.router): \(r.stderr)\n\(rules)") }
            }
        } catch {
            tearDown()
            throw error
        }
        sites.append(site)
        return site
    }

    /// How long the site's router keeps an idle UDP mapping (conntrack's UDP timeouts, per
    /// network namespace; Linux's defaults are 30 s, and 120 s once both sides have spoken).
    func setUDPMappingTimeout(_ site: KernelNATSite, seconds: Int) throws {
        for name in ["nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"] {
            try exec(site.router, ["/bin/sh", "-c", "echo \(seconds) > /proc/sys/net/netfilter/\(name)"])
        }
    }

    /// Removes every namespace (their veths go with them). Safe to call twice.
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        for ns in namespaces.reversed() { _ = try? run("/usr/sbin/ip", ["netns", "del", ns]) }
        namespaces.removeAll()
    }

    /// Runs `arguments` inside namespace `ns`, checking its exit status.
    @discardableResult
    func exec(_ ns: String, _ arguments: [String], timeout: TimeInterval = 20) throws -> Finished {
        let r = try run("/usr/sbin/ip", ["netns", "exec", ns] + arguments, timeout: timeout)
        guard r.status == 0 else { throw TestFailure("in \(ns): \(arguments.joined(separator: " ")): exit \(r.status): \(r.stderr)") }
        return r
    }

    /// `ip netns exec NS` + `arguments`, for `run` or `Background`.
    func command(in ns: String, _ arguments: [String]) -> (String, [String]) {
        ("/usr/sbin/ip", ["netns", "exec", ns] + arguments)
    }

    private func addNamespace(_ ns: String) throws {
        // A namespace left by a killed earlier run of this process id is stale: replace it.
        _ = try? run("/usr/sbin/ip", ["netns", "del", ns])
        try ip(["netns", "add", ns])
        namespaces.append(ns)
        try ip(["-n", ns, "link", "set", "lo", "up"])
    }

    private func ip(_ arguments: [String]) throws {
        let r = try run("/usr/sbin/ip", arguments)
        guard r.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")): exit \(r.status): \(r.stderr)") }
    }
}

/// One site of a `KernelInternet`: names and addresses of its host and router.
struct KernelNATSite {
    let kind: KernelNATKind
    let index: Int
    let host: String
    let router: String
    /// The router loops LAN packets for its WAN address back in (RFC 4787 REQ-9).
    let hairpinning: Bool

    init(kind: KernelNATKind, index: Int, prefix: String, hairpinning: Bool) {
        self.kind = kind
        self.hairpinning = hairpinning
        self.index = index
        host = prefix + "-h\(index)"
        router = prefix + "-r\(index)"
    }

    /// The router's WAN address: the NAT's public address.
    var publicAddress: String { "203.0.113.\(8 * index + 1)" }
    var internetSideAddress: String { "203.0.113.\(8 * index + 2)" }
    var hostAddress: String { kind == .open ? "192.0.2.\(16 * index + 2)" : "10.0.\(index).2" }
    var routerLANAddress: String { kind == .open ? "192.0.2.\(16 * index + 1)" : "10.0.\(index).1" }
    var lanPrefixLength: Int { kind == .open ? 28 : 24 }
    var lanSubnet: String { kind == .open ? "192.0.2.\(16 * index)/28" : "10.0.\(index).0/24" }

    /// The router's nftables ruleset (nil: it only routes). Unsolicited inbound packets are
    /// dropped in `input` before conntrack confirms them: a confirmed entry would take the
    /// 5-tuple the host's own later SNAT needs, and Linux would pick another port.
    var nftRules: String? {
        guard kind != .open else { return nil }
        let dropNew = "iifname \"r1\" ct state new drop"
        var prerouting: [String] = []
        var postrouting: [String] = []
        var forward: [String] = []
        var extra = ""
        if hairpinning {
            // RFC 4787 REQ-9: from the LAN to our own WAN address, back to the host at the same
            // port (Linux keeps the port when it is free), with the sender's external address as
            // the source. Not for APDM: its external port is not the host's.
            prerouting.append("iifname \"r0\" ip daddr \(publicAddress) meta l4proto udp dnat to \(hostAddress)")
            postrouting.append("iifname \"r0\" oifname \"r0\" ct status dnat snat to \(publicAddress)")
        }
        postrouting.append("oifname \"r1\" snat to \(publicAddress)" + (kind == .symmetric ? " fully-random" : ""))
        if kind == .fullCone || kind == .addressRestricted {
            // As above, external port == host port, so inbound WAN:port can go to host:port.
            if kind == .addressRestricted {
                extra = "set sent { type ipv4_addr . inet_service; flags dynamic, timeout; timeout 5m; }\n"
                    + "chain remember { type filter hook forward priority filter - 1; policy accept; "
                    + "iifname \"r0\" oifname \"r1\" meta l4proto udp update @sent { ip daddr . udp sport }; }"
            }
            let match = kind == .addressRestricted ? "ip saddr . udp dport @sent " : ""
            prerouting.append("iifname \"r1\" meta l4proto udp \(match)dnat to \(hostAddress)")
            forward.append("iifname \"r1\" ct status dnat accept")
        }
        forward.append(dropNew)
        func chain(_ name: String, _ head: String, _ rules: [String]) -> String {
            rules.isEmpty ? "" : "chain \(name) { \(head); policy accept; " + rules.map { $0 + "; " }.joined() + "}\n"
        }
        return "table ip natlab {\n" + extra + "\n"
            + chain("prerouting", "type nat hook prerouting priority dstnat", prerouting)
            + chain("postrouting", "type nat hook postrouting priority srcnat", postrouting)
            + chain("input", "type filter hook input priority filter", [dropNew])
            + chain("forward", "type filter hook forward priority filter", forward)
            + "}\n"
    }
}

// MARK: - IPv6 beside the NATs, and router firewalls

extension KernelNATSite {
    /// The site's global IPv6 prefix (the documentation prefix, RFC 3849): the host is ::2, the
    /// router's LAN side ::1. Site n gets 2001:db8:(n+1)::/64, so no site prints as "2001:db8::".
    var ipv6Prefix: String { "2001:db8:\(index + 1)::" }
    var hostIPv6Address: String { ipv6Prefix + "2" }
    var routerLANIPv6Address: String { ipv6Prefix + "1" }
    /// The router's WAN link to the internet namespace: the router is ::1, the internet ::2.
    var wanIPv6Prefix: String { "2001:db8:f0\(index < 10 ? "0" : "")\(index)::" }
    var routerWANIPv6Address: String { wanIPv6Prefix + "1" }
    var internetSideIPv6Address: String { wanIPv6Prefix + "2" }
}

extension KernelInternet {
    /// Gives `site` global IPv6 beside its IPv4 (dual stack, no NAT66): the host's address is
    /// routed through its router and the internet namespace. With `firewall`, the router runs
    /// the stateful filter RFC 6092 recommends for IPv6 CPE (§3.2.2 REC-11: address-and-port-
    /// dependent filtering of UDP, §3.2.3: ICMPv6 errors related to a flow pass): forwarded
    /// packets from the WAN pass only when conntrack has seen the flow leave first. Addresses
    /// are added with `nodad`, so sockets can bind them at once (no tentative state).
    func addIPv6(_ site: KernelNATSite, firewall: Bool = true) throws {
        do {
            for ns in [site.router, internet] {
                try exec(ns, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"])
            }
            try ip(["-n", site.host, "addr", "add", site.hostIPv6Address + "/64", "dev", "h0", "nodad"])
            try ip(["-n", site.host, "-6", "route", "add", "default", "via", site.routerLANIPv6Address])
            try ip(["-n", site.router, "addr", "add", site.routerLANIPv6Address + "/64", "dev", "r0", "nodad"])
            try ip(["-n", site.router, "addr", "add", site.routerWANIPv6Address + "/64", "dev", "r1", "nodad"])
            try ip(["-n", site.router, "-6", "route", "add", "default", "via", site.internetSideIPv6Address])
            try ip(["-n", internet, "addr", "add", site.internetSideIPv6Address + "/64", "dev", "s\(site.index)", "nodad"])
            try ip(["-n", internet, "-6", "route", "add", site.ipv6Prefix + "/64", "via", site.routerWANIPv6Address])
            if firewall {
                try nft(site.router, """
                    table ip6 firewall6 {
                      chain forward { type filter hook forward priority filter; policy accept;
                        iifname "r1" ct state established,related accept;
                        iifname "r1" drop; }
                    }
                    """)
            }
            try waitForIPv6(in: [site.host, site.router, internet])
        } catch {
            tearDown()
            throw error
        }
    }

    /// Waits until no address in `namespaces` is tentative. The links' own link-local
    /// addresses still run duplicate address detection (RFC 4862 §5.4, about 2 s here), and
    /// until it ends neighbour discovery holds forwarded packets for a second or more: a probe
    /// sent then arrives late, after a reply has opened the firewall for it.
    private func waitForIPv6(in namespaces: [String]) throws {
        let ready = waitUntil(timeout: 6) {
            namespaces.allSatisfy { ns in
                (try? run("/usr/sbin/ip", ["-n", ns, "-6", "addr", "show", "tentative"])).map { $0.status == 0 && $0.stdout.isEmpty } ?? false
            }
        }
        guard ready else { throw TestFailure("IPv6 addresses still tentative after 6 s in \(namespaces.joined(separator: " "))") }
    }

    /// The router of `site` silently drops every UDP datagram its LAN sends out (a network
    /// that lets only TCP through, as some corporate and hotel networks do); TCP is untouched.
    /// `drop`, not `reject`: no ICMP tells the host, so UDP attempts only time out.
    func blockOutboundUDP(_ site: KernelNATSite) throws {
        do {
            try nft(site.router, """
                table inet udpblock {
                  chain forward { type filter hook forward priority filter - 10; policy accept;
                    iifname "r0" meta l4proto udp drop; }
                }
                """)
        } catch {
            tearDown()
            throw error
        }
    }

    /// Private IPv4 ranges (RFC 1918) from the internet namespace go into a veth whose peer is
    /// down: they vanish while `sendto()` succeeds. A relay server sending to a peer's private
    /// host candidate must not get an error for it (coturn closes the whole allocation on the
    /// EINVAL a `blackhole` route gives).
    func blackHolePrivateRanges() throws {
        do {
            try ip(["-n", internet, "link", "add", "bh0", "type", "veth", "peer", "name", "bh1"])
            try ip(["-n", internet, "link", "set", "bh0", "up"])
            for range in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] {
                try ip(["-n", internet, "route", "add", range, "dev", "bh0"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    private func nft(_ ns: String, _ rules: String) throws {
        let r = try run("/usr/sbin/ip", ["netns", "exec", ns, "nft", "-f", "-"], stdin: rules)
        guard r.status == 0 else { throw TestFailure("nft -f in \(ns): \(r.stderr)\n\(rules)") }
    }
}
