import Common
import Connectivity
import ICE
import Runtime
import SDP

extension Session {
    /// Sends what the connection queued and acts on its events, until it has neither.
    func pump(now: Instant) {
        while true {
            sendTransmits()
            guard let first = connection.pollEvent() else { break }
            var next: ConnectionEvent? = first
            while let e = next {
                handle(e, now: now)
                next = connection.pollEvent()
            }
        }
        // Trickle: the description goes out at once with the host candidates (RFC 8838 §4).
        if !descriptionSent { sendDescription() }
    }

    func sendTransmits() {
        while let t = connection.pollTransmit() {
            switch t.route {
            case .socket(let local):
                guard let s = socket(bound: local) else { continue }
                pcap?.record(t.bytes, from: local, to: t.destination)
                do throws(SocketError) { try s.send(t.bytes, to: t.destination) } catch {
                    Log.debug("\(name): send to \(t.destination) failed: \(error.description)")
                }
            case .stream(let index):
                // Dropped (and counted by the connection) when it is not open or is full.
                links[index].stream?.send(t.bytes)
                updateWriteInterest(links[index])
            }
        }
    }

    /// The base socket, or a relay's own socket, bound to `local`.
    func socket(bound local: TransportAddress) -> UDPSocket? {
        for s in sockets where s.localAddress == local { return s }
        for link in links { if let s = link.ownSocket, s.localAddress == local { return s } }
        return nil
    }

    func handle(_ e: ConnectionEvent, now: Instant) {
        switch e {
        case .localCandidate(let c):
            Log.debug("\(name): local candidate \(CandidateLine.format(c))")
            // Before the description goes out, it carries the candidate itself.
            if descriptionSent { signaling?.sendCandidate(c, local: agent.localCredentials) }
        case .unsignaledCandidate(let c):
            Log.info("\(name): \(c.address) not signaled (after end-of-candidates)")
        case .endOfCandidates:
            // Before the description goes out, it carries a=end-of-candidates itself.
            if descriptionSent { signaling?.sendEndOfCandidates(local: agent.localCredentials) }
        case .stateChanged(let s):
            Log.info("\(name): ICE \(s.name.description)")
            if s == .connected || s == .completed { everConnected = true }
            if s == .completed && completedAt == nil { completedAt = now }
            events.push(.stateChanged(s), now: now)
            if s == .disconnected { consentLost(now: now) }
        case .selectedPair(_, let l, let r, let nominated):
            Log.info("\(name): selected \(l.address) -> \(r.address) (\(l.type.sdpName.description)/\(r.type.sdpName.description))\(nominated ? " nominated" : "")")
        case .mappingChanged(_, let was, let mapped):
            Log.info("\(name): the NAT rebound \(was) to \(mapped)")
            mappingRebound(now: now)
        case .roleChanged(let role):
            Log.info("\(name): role \(role.name.description)")
        case .tableFull(let t):
            Log.warning("\(name): table full: \(t.name.description)")
        case .mediaSecured(let profile):
            Log.info("\(name): media: DTLS-SRTP keyed (\(profile.name.description))")
        case .mediaSecurityFailed(let failure):
            Log.error("\(name): media: \(failure.description)")
            mediaFailed = true
            events.push(.mediaSecurityFailed, now: now)
        case .mediaSecurityClosed:
            // The peer hung up; consent (RFC 7675) ends the call when its checks stop too.
            Log.info("\(name): media: the peer closed DTLS")
        default:
            relayEvent(e, now: now)
        }
    }
}
