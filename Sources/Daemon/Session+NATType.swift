import Common
import ICE
import NATBehavior
import Runtime

extension Session {
    /// RFC 5780 §4 behaviour discovery against the first STUN server, from `due` on, for the
    /// status report: a field engineer asking why a call rides a relay gets the NAT's mapping
    /// and filtering behaviour (RFC 4787) without stopping the agent. Late enough not to share
    /// the loop with the call's own setup. Nothing happens without a STUN server; one without
    /// RFC 5780 support ends it at the first response (no OTHER-ADDRESS, §6).
    public func probeNATType(at due: Instant) {
        guard natType == nil, !agent.configuration.stunServers.isEmpty else { return }
        natTypeDue = due
    }

    func startNATType() {
        natTypeDue = nil
        guard natType == nil, let server = agent.configuration.stunServers.first else { return }
        var ips: [IPAddress] = []
        for s in sockets where s.localAddress.ip.isIPv4 == server.ip.isIPv4 { ips.append(s.localAddress.ip) }
        do throws(SocketError) {
            let probe = try NATTypeProbe(configuration: DiscoveryConfiguration(server: server, localAddresses: []), localIPs: ips, loop: loop)
            let name = self.name
            probe.decided = { outcome in Log.info("\(name): NAT behaviour: \(NATTypeProbe.summary(outcome))") }
            natType = probe
        } catch {
            Log.warning("\(name): NAT behaviour discovery not started: \(error.description)")
        }
    }

    /// "nat": the discovery's server and where it stands; its verdict once decided.
    func writeNATType(_ j: inout JSONWriter) {
        guard let server = natType?.server ?? (natTypeDue != nil ? agent.configuration.stunServers.first : nil) else { return }
        j.beginObject("nat")
        j.member("server", server.description)
        switch natType?.outcome {
        case nil:
            j.member("result", "pending")
        case .running?:
            j.member("result", "running")
        case .determined(let r)?:
            j.member("result", "determined")
            j.member("nat_type", r.classification.name.description)
            j.member("mapping", r.mapping.name.description)
            j.member("filtering", r.filtering.name.description)
            j.member("hairpinning", r.hairpinning.name.description)
            j.member("mapped_address", r.mappedAddress.description)
        case .failed(let e)?:
            j.member("result", "failed")
            j.member("error", e.name.description)
        }
        j.endObject()
    }
}

extension NATTypeProbe {
    /// One line for the log: the verdict, or why there is none.
    public static func summary(_ outcome: DiscoveryOutcome) -> String {
        switch outcome {
        case .running: return "running"
        case .failed(let e): return "undetermined (\(e.name))"
        case .determined(let r):
            return "\(r.classification.label): mapping \(r.mapping.abbreviation), filtering \(r.filtering.abbreviation), hairpinning \(r.hairpinning.name)"
        }
    }
}
