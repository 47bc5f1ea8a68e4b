import Common
import Connectivity
import ICE
import Runtime

extension Session {
    /// The host's usable addresses now, after the kernel reported a change (`NetworkWatcher`).
    /// Bases whose address went away close with their candidates; new addresses get a socket,
    /// a host candidate and server-reflexive gathering. A side that can signal a restart then
    /// restarts ICE (RFC 8445 §9) when the selected pair's address went away, or when a new
    /// address came while the call has no pair or rides a relay: after end-of-candidates new
    /// candidates reach the peer only through a restart (RFC 8838 §13). Media stays on the old
    /// pair while it still works.
    public func networkChanged(addresses: [IPAddress], now: Instant) {
        // No usable address at all: a link that went down (Wi-Fi roaming, a cable pulled for
        // a moment) rather than a new network. The sockets stay and the pair is kept: if the
        // same address comes back the call goes on as it was, a different one restarts ICE
        // then, and consent (RFC 7675 §5.1) bounds the wait.
        guard !addresses.isEmpty else {
            if !sockets.isEmpty { Log.info("\(name): no usable address: keeping the call's until one comes") }
            return
        }
        var removed: [UDPSocket] = []
        for s in sockets where !addresses.contains(s.localAddress.ip) { removed.append(s) }
        var added: [IPAddress] = []
        for ip in addresses where !sockets.contains(where: { $0.localAddress.ip == ip }) && !added.contains(ip) { added.append(ip) }
        guard !removed.isEmpty || !added.isEmpty else { return }
        var newBases: [TransportAddress] = []
        for ip in added {
            guard let s = openBase(ip) else { continue }
            newBases.append(s.localAddress)
            Log.info("\(name): address \(ip) came up")
        }
        for s in removed { Log.info("\(name): address \(s.localAddress.ip) went away") }
        let selected = agent.selectedPair()?.local
        let lostSelected = selected.map { l in removed.contains { $0.localAddress == l.base } || l.type == .relayed && !removed.isEmpty } ?? false
        var gone = removed.map { $0.localAddress }
        // A relay's own socket (after a 437) on an address that went away goes with it.
        for link in links {
            guard let own = link.ownSocket, !addresses.contains(own.localAddress.ip) else { continue }
            gone.append(own.localAddress)
            loop.unregister(fd: own.descriptor)
            own.close()
            link.ownSocket = nil
        }
        // A new address is worth a restart when the call has no pair or rides a relay; a
        // direct pair that works is kept (its new candidates stay unsignaled, and logged).
        let restart = initiatesRestarts && remoteDescriptionReceived
            && (lostSelected || !newBases.isEmpty && (selected == nil || selected?.type == .relayed))
        if restart && restartICE(now: now, added: newBases, removed: gone) {
            Log.info("\(name): network changed: restarted ICE")
        } else {
            connection.hostBasesChanged(added: newBases, removed: gone, now: now)
        }
        for s in removed {
            loop.unregister(fd: s.descriptor)
            s.close()
        }
        sockets.removeAll { s in removed.contains { $0 === s } }
        pump(now: now)
    }
}
