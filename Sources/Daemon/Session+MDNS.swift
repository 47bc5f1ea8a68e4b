import Common
import Connectivity
import ICE
import MDNS
import Runtime
import SDP

/// Browsers hide their host addresses behind mDNS names (draft-ietf-mmusic-mdns-ice-candidates
/// §3.1.1: "<uuid>.local"). Such a candidate waits here until its name resolves (RFC 6762 §5.1
/// one-shot queries, on the loop, never blocking), then joins the agent with the address
/// (§3.2.1). End-of-candidates waits for them, so the agent does not fail before the
/// browser's only host candidate resolved.
extension Session {
    /// The most hostname candidates held at once: a hostile description cannot queue more.
    static let maxPendingHostnames = 16

    func resolveHostnames(_ hostnames: [HostnameCandidate], now: Instant) {
        for h in hostnames {
            guard h.component == 1, h.transport == .udp else { continue }
            guard pendingHostnames.count < Self.maxPendingHostnames else {
                Log.info("\(name): candidate \(h.name) ignored (too many mDNS names pending)")
                continue
            }
            guard let resolver = mdnsResolver() else { return }
            do throws(MDNSError) {
                try resolver.resolve(try MDNSName(h.name), now: now)
                pendingHostnames.append(h)
                Log.info("\(name): resolving \(h.name) by mDNS")
            } catch {
                Log.info("\(name): candidate \(h.name) ignored (\(error))")
            }
        }
    }

    /// Opened at the first name: most calls have none.
    func mdnsResolver() -> MDNSResolver? {
        if let mdns { return mdns }
        // Queries leave by the interface of the first IPv4 base that is not loopback (a host
        // without a multicast route could not send them otherwise).
        let interface = sockets.lazy.map { $0.localAddress.ip }.first { $0.isIPv4 && !$0.isLoopback }
        do throws(MDNSResolverError) {
            mdns = try MDNSResolver(loop: loop, interface: interface)
        } catch {
            Log.warning("\(name): mDNS unavailable: \(error.description)")
        }
        return mdns
    }

    /// Resolved names become candidates; failed ones are dropped. When none is left pending,
    /// a held end-of-candidates goes to the agent.
    func takeMDNSResults(now: Instant) {
        guard let resolver = mdns else { return }
        while let r = resolver.pollResult() {
            switch r {
            case .resolved(let n, let ips):
                let text = n.description
                for h in pendingHostnames where h.name == text {
                    for ip in ips.prefix(2) { addRemoteCandidate(h.resolved(to: ip), now: now) }
                    Log.info("\(name): \(text) is \(ips.first.map { $0.description } ?? "?")")
                }
                pendingHostnames.removeAll { $0.name == text }
            case .failed(let n):
                Log.info("\(name): \(n.description) did not resolve: its candidates are dropped")
                pendingHostnames.removeAll { $0.name == n.description }
            }
        }
        if pendingHostnames.isEmpty && remoteEndOfCandidatesHeld {
            remoteEndOfCandidatesHeld = false
            connection.setRemoteEndOfCandidates(now: now)
        }
    }

    /// RFC 8838 §8: end-of-candidates, once the mDNS names it covers have resolved.
    func remoteEndOfCandidates(now: Instant) {
        if pendingHostnames.isEmpty {
            connection.setRemoteEndOfCandidates(now: now)
        } else {
            remoteEndOfCandidatesHeld = true
        }
    }
}
