import Common
import Connectivity
import Runtime
import TURN

/// The I/O side of one of the connection's relays: its TCP or TLS connection, or the UDP
/// socket of its own it moved to after a 437. Policy (retries, redirects, permissions)
/// stays in the connection.
final class RelayLink {
    let index: Int
    let config: TURNServerConfig
    var stream: TURNStreamConnection? = nil
    var ownSocket: UDPSocket? = nil
    /// Registered with the event loop (the stream's descriptor and its deadline).
    var driver: RelayDriver? = nil
    var watchingWrite = false

    init(index: Int, config: TURNServerConfig) {
        self.index = index
        self.config = config
    }

    var label: String { config.label }
}

/// The event-loop side of one relay link: its stream connection's readiness and its
/// connect and handshake deadline.
final class RelayDriver: ReadableHandler, TimerClient {
    let session: Session
    let link: RelayLink

    init(session: Session, link: RelayLink) {
        self.session = session
        self.link = link
    }

    func readable(now: Instant) { session.streamReadable(link, now: now) }
    func writable(now: Instant) { session.streamWritable(link, now: now) }
    var nextDeadline: Instant? { link.stream?.deadline }
    func handleTimeout(now: Instant) { session.streamTimeout(link, now: now) }
}

extension Session {
    /// UDP relays talk from the first base of the server's family, shared with STUN and media.
    func addRelays(_ servers: [TURNServerConfig]) {
        for (i, config) in servers.enumerated() {
            var base: TransportAddress? = nil
            if config.transport == .udp {
                for s in sockets where s.localAddress.ip.isIPv4 == config.server.ip.isIPv4 {
                    base = s.localAddress
                    break
                }
                if base == nil {
                    Log.warning("\(name): no local address of the family of TURN server \(config.label)")
                    continue
                }
            }
            let index = connection.addRelay(config.relayServer(index: i), base: base)
            let link = RelayLink(index: index, config: config)
            let driver = RelayDriver(session: self, link: link)
            link.driver = driver
            loop.addTimerClient(driver)
            links.append(link)
        }
    }

    func relayEvent(_ e: ConnectionEvent, now: Instant) {
        switch e {
        case .relayAllocated(let i, let relayed, let lifetime):
            Log.info("\(name): TURN \(links[i].label) allocated \(relayed) (lifetime \(lifetime.milliseconds / 1000) s)")
        case .relayFailed(let i, let f, let retryIn):
            Log.warning("\(name): TURN \(links[i].label) failed: \(f.description)")
            if let retryIn { Log.info("\(name): TURN \(links[i].label): retrying in \(retryIn.milliseconds / 1000) s") }
        case .relayRedirected(let i, let to):
            Log.info("\(name): TURN \(links[i].label): redirected to \(to)")
        case .relayCandidateWithdrawn(let i, let old):
            Log.info("\(name): TURN \(links[i].label): relayed candidate \(old) withdrawn")
        case .relayTableFull:
            Log.warning("\(name): TURN table full")
        case .relayRebased(let i, let from, let to):
            if let to {
                Log.info("\(name): TURN \(links[i].label): allocating again from \(to)\(from.map { " (\($0) went away)" } ?? "")")
            } else {
                Log.info("\(name): TURN \(links[i].label): \(from.map { "\($0)" } ?? "its address") went away: waiting for a new address")
            }
        case .openStream(let i, let server, let serverName):
            openStream(links[i], server: server, serverName: serverName, now: now)
        case .closeStream(let i):
            dropStream(links[i])
        case .bindRelaySocket(let i):
            rebindRelaySocket(links[i])
        default:
            break
        }
    }

    func openStream(_ link: RelayLink, server: TransportAddress, serverName: String, now: Instant) {
        dropStream(link)
        do throws(RelayTransportError) {
            let c = try TURNStreamConnection(server: server, transport: link.config.transport, tls: link.config.tls,
                                             serverName: serverName, now: now)
            guard let driver = link.driver else { return }
            do throws(EventLoop.Failure) {
                try loop.register(fd: c.descriptor, driver)
            } catch {
                Log.warning("\(name): TURN \(link.label): cannot watch the connection")
                connection.streamFailed(relay: link.index, now: now)
                return
            }
            link.stream = c
            loop.watchWritable(fd: c.descriptor, true)
            link.watchingWrite = true
            Log.debug("\(name): TURN \(link.label): connecting to \(server) over \(link.config.transport.name.description)")
        } catch {
            Log.warning("\(name): TURN \(link.label): \(error.description)")
            connection.streamFailed(relay: link.index, now: now)
        }
    }

    func dropStream(_ link: RelayLink) {
        guard let c = link.stream else { return }
        c.close()
        loop.unregister(fd: c.descriptor)
        link.stream = nil
        link.watchingWrite = false
    }

    /// Moves a UDP relay to a new socket of its own on the same local IP (a new client port,
    /// so a new 5-tuple at the server).
    func rebindRelaySocket(_ link: RelayLink) {
        guard let base = connection.relays[link.index].base else { return }
        do throws(SocketError) {
            let fresh = try UDPSocket(bind: TransportAddress(base.ip, 0))
            try? loop.register(fd: fresh.descriptor, SocketReader(session: self, socket: fresh))
            if let old = link.ownSocket { loop.unregister(fd: old.descriptor) }
            link.ownSocket = fresh
            connection.relaySocketBound(relay: link.index, base: fresh.localAddress)
            Log.info("\(name): TURN \(link.label): 437 allocation mismatch: retrying from \(fresh.localAddress)")
        } catch {
            Log.warning("\(name): TURN \(link.label): cannot bind a new client port: \(error.description)")
        }
    }

    // MARK: Stream readiness

    func streamReadable(_ link: RelayLink, now: Instant) {
        guard let c = link.stream else { return }
        c.readable(now: now) { frame in
            let inbound = self.connection.handle(streamFrame: frame, relay: link.index, now: now)
            guard case .media(_, _, let range) = inbound, range.count <= self.streamMedia.count else {
                return self.mediaRelay.fromPeer(inbound)
            }
            // The stream's own buffer is not ours to decrypt in place.
            self.streamMedia.withUnsafeMutableBytes { copy in
                copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[range]))
                self.fromPeer(UnsafeMutableRawBufferPointer(rebasing: copy[0..<range.count]), now: now)
            }
        }
        serviceStream(link, c, now: now)
        pump(now: now)
    }

    func streamWritable(_ link: RelayLink, now: Instant) {
        guard let c = link.stream else { return }
        c.writable(now: now)
        serviceStream(link, c, now: now)
        pump(now: now)
    }

    func streamTimeout(_ link: RelayLink, now: Instant) {
        guard let c = link.stream else { return }
        c.handleTimeout(now: now)
        serviceStream(link, c, now: now)
        pump(now: now)
    }

    /// Tells the connection what the stream reported and keeps the write interest in step.
    func serviceStream(_ link: RelayLink, _ c: TURNStreamConnection, now: Instant) {
        while let e = c.pollEvent() {
            switch e {
            case .opened:
                Log.debug("\(name): TURN \(link.label): connected")
                connection.streamOpened(relay: link.index, now: now)
            case .failed(let error):
                let gone = connection.relays[link.index].client.state == .allocated
                Log.warning("\(name): TURN \(link.label): \(error.description)\(gone ? "; the allocation is gone" : "")")
                dropStream(link)
                connection.streamFailed(relay: link.index, now: now)
                return
            }
        }
        updateWriteInterest(link)
    }

    func updateWriteInterest(_ link: RelayLink) {
        guard let c = link.stream else { return }
        let want = c.wantsWrite
        if want != link.watchingWrite {
            loop.watchWritable(fd: c.descriptor, want)
            link.watchingWrite = want
        }
    }

    /// After the connection deallocated (its last transmits sent): the links leave the loop.
    func closeRelayLinks() {
        for link in links {
            dropStream(link)
            if let s = link.ownSocket { loop.unregister(fd: s.descriptor) }
            link.ownSocket = nil
            if let driver = link.driver {
                loop.removeTimerClient(driver)
                link.driver = nil
            }
        }
        links.removeAll()
    }
}
