import Common
import ICE
import Runtime
import STUN
import TURN

/// A TURN server to allocate a relayed candidate on (RFC 8656), with its long-term credential
/// and how it is reached: UDP (over the session's host socket of the server's family), TCP,
/// or TLS over TCP (RFC 7065 `turn:...?transport=tcp`, `turns:`).
public struct TURNServerConfig {
    public var server: TransportAddress
    public var username: String
    public var password: String
    public var transport: TURNTransport
    /// The URI's host: TLS's SNI and the name the server certificate must match.
    public var serverName: String
    /// Trusted CAs for `.tls` (shared by every connection; required for `.tls`).
    public var tls: TLSClientConfiguration?
    /// Family of the relayed address (REQUESTED-ADDRESS-FAMILY): by default the server's.
    public var family: TURNAddressFamily
    /// For logs, e.g. "turns:turn.example.org:5349".
    public var label: String

    public init(server: TransportAddress, username: String, password: String, transport: TURNTransport = .udp,
                serverName: String? = nil, tls: TLSClientConfiguration? = nil, family: TURNAddressFamily? = nil,
                label: String? = nil) {
        self.server = server
        self.username = username
        self.password = password
        self.transport = transport
        self.serverName = serverName ?? server.ip.description
        self.tls = tls
        self.family = family ?? (server.ip.isIPv4 ? .ipv4 : .ipv6)
        self.label = label ?? ((transport == .tls ? "turns:" : "turn:") + server.description
            + (transport == .tcp ? "?transport=tcp" : ""))
    }

    /// RFC 8445 §5.1.2.1 local preference of this server's relayed candidate: UDP over TCP
    /// over TLS (each extra hop of framing and head-of-line blocking costs media), IPv6 over
    /// IPv4 as for host candidates, then the order the servers were configured in.
    public static func relayLocalPreference(transport: TURNTransport, family: TURNAddressFamily, index: Int) -> UInt16 {
        let rank: UInt16
        switch transport {
        case .udp: rank = 3
        case .tcp: rank = 2
        case .tls: rank = 1
        }
        return rank << 13 | (family == .ipv6 ? 0x1000 : 0) | (0x0FFF - UInt16(min(max(index, 0), 0x0FFF)))
    }
}

/// Backoff of a relay that failed: a fresh allocation after 2 s, doubling up to a minute.
enum RelayRetry {
    static let first = Interval.seconds(2)
    static let maximum = Interval.seconds(60)

    static func delay(afterFailures n: Int) -> Interval {
        var d = first
        var k = 1
        while k < n && d < maximum {
            d = d * 2
            k += 1
        }
        return d < maximum ? d : maximum
    }
}

/// One allocation: its TURN client, and how it talks to its server — the base socket for UDP
/// (shared with STUN and media, told apart by the server's address) or its own TCP/TLS
/// connection. A failure (the connection lost, the server gone) is retried with a fresh
/// client and connection after a backoff.
final class Relay {
    let config: TURNServerConfig
    let localPreference: UInt16
    var client: TURNClient<SystemRandom>
    /// UDP: the host socket of the server's family, or a socket of the relay's own after a 437.
    var socket: UDPSocket?
    /// The relay bound `socket` itself (and registered it on the loop).
    var ownsSocket = false
    /// The server answered 437 Allocation Mismatch: it still holds an allocation for this
    /// 5-tuple (a restarted daemon whose NAT mapped it to the same port). RFC 8656 §7.2 and
    /// §7.4: try again from another client port rather than wait out the old lifetime.
    var needsFreshSocket = false
    /// TCP/TLS: the current connection, if any.
    var connection: TURNStreamConnection? = nil
    /// Registered with the event loop (fd and timers); nil once the session closed.
    var driver: RelayDriver? = nil
    var watchingWrite = false
    /// The server in use (a 300 Try Alternate over TCP/TLS moves to another one).
    var server: TransportAddress
    /// The name its TLS certificate must match: the URI's host, or a redirect's ALTERNATE-DOMAIN.
    var serverName: String
    var redirects = 0
    /// Allocated or failed once: either way gathering no longer waits for it.
    var settled = false
    /// Remote addresses a channel was requested for.
    var channels: [TransportAddress] = []
    /// The relayed candidate this relay gave the agent, while its allocation lives.
    var candidateAddress: TransportAddress? = nil
    /// When the allocation behind that candidate was lost, until a new one is allocated or
    /// `reallocationPatience` passes.
    var lostAt: Instant? = nil
    /// Failures since the last successful allocation (for the backoff).
    var failures = 0
    var retryAt: Instant? = nil
    var closed = false

    init(config: TURNServerConfig, index: Int, socket: UDPSocket?) {
        self.config = config
        self.socket = socket
        self.server = config.server
        self.serverName = config.serverName
        localPreference = TURNServerConfig.relayLocalPreference(transport: config.transport, family: config.family, index: index)
        client = Relay.makeClient(config, server: config.server)
    }

    static func makeClient(_ config: TURNServerConfig, server: TransportAddress) -> TURNClient<SystemRandom> {
        var c = TURNConfiguration()
        c.transport = config.transport
        c.addressFamily = config.family
        return TURNClient(server: server, username: config.username, password: config.password, configuration: c,
                          random: SystemRandom())
    }

    var label: String { config.label }
}

/// The event-loop side of one relay: its connection's readiness and its timers (connect and
/// handshake timeouts, retries). Registered while the session is open.
final class RelayDriver: ReadableHandler, TimerClient {
    let session: Session
    let relay: Relay

    init(session: Session, relay: Relay) {
        self.session = session
        self.relay = relay
    }

    func readable(now: Instant) { session.relayReadable(relay, now: now) }
    func writable(now: Instant) { session.relayWritable(relay, now: now) }

    var nextDeadline: Instant? {
        var d = relay.retryAt
        if let c = relay.connection?.deadline, d == nil || c < d! { d = c }
        if let l = relay.lostAt.map({ $0 + Session.reallocationPatience }), d == nil || l < d! { d = l }
        return d
    }

    func handleTimeout(now: Instant) { session.relayTimeout(relay, now: now) }
}

extension Session {
    func startRelays(now: Instant) {
        for (index, config) in turnServers.enumerated() {
            var socket: UDPSocket? = nil
            if config.transport == .udp {
                socket = sockets.first(where: { $0.localAddress.ip.isIPv4 == config.server.ip.isIPv4 })
                if socket == nil {
                    Log.warning("\(name): no local address of the family of TURN server \(config.label)")
                    continue
                }
            }
            let relay = Relay(config: config, index: index, socket: socket)
            let driver = RelayDriver(session: self, relay: relay)
            relay.driver = driver
            loop.addTimerClient(driver)
            relays.append(relay)
            agent.externalGatheringPending = true
            startAttempt(relay, now: now)
        }
    }

    /// Moves a UDP relay to a new socket of its own on the same local IP (a new client port,
    /// so a new 5-tuple at the server).
    func rebindRelaySocket(_ relay: Relay) {
        relay.needsFreshSocket = false
        guard let old = relay.socket else { return }
        do throws(SocketError) {
            let fresh = try UDPSocket(bind: TransportAddress(old.localAddress.ip, 0))
            try? loop.register(fd: fresh.descriptor, SocketReader(session: self, socket: fresh))
            if relay.ownsSocket { loop.unregister(fd: old.descriptor) }
            relay.socket = fresh
            relay.ownsSocket = true
            Log.info("\(name): TURN \(relay.label): 437 allocation mismatch: retrying from \(fresh.localAddress)")
        } catch {
            Log.warning("\(name): TURN \(relay.label): cannot bind a new client port: \(error.description)")
        }
    }

    /// Starts the client (UDP) or the connection it waits for (TCP/TLS).
    func startAttempt(_ relay: Relay, now: Instant) {
        guard relay.config.transport.isStream else {
            startClient(relay, now: now)
            return
        }
        do throws(RelayTransportError) {
            let c = try TURNStreamConnection(server: relay.server, transport: relay.config.transport, tls: relay.config.tls,
                                             serverName: relay.serverName, now: now)
            relay.connection = c
            if let driver = relay.driver {
                do throws(EventLoop.Failure) {
                    try loop.register(fd: c.descriptor, driver)
                    loop.watchWritable(fd: c.descriptor, true)
                    relay.watchingWrite = true
                } catch {
                    relay.connection = nil
                    Log.warning("\(name): TURN \(relay.label): cannot watch the connection")
                    relayFailed(relay, permanent: false, now: now)
                }
            }
            Log.debug("\(name): TURN \(relay.label): connecting to \(relay.server) over \(relay.config.transport.name.description)")
        } catch {
            Log.warning("\(name): TURN \(relay.label): \(error.description)")
            relayFailed(relay, permanent: false, now: now)
        }
    }

    func startClient(_ relay: Relay, now: Instant) {
        do throws(TURNError) { try relay.client.start(now: now) } catch {
            Log.warning("\(name): TURN \(relay.label): cannot start")
            relayFailed(relay, permanent: true, now: now)
        }
    }

    /// A failed attempt or a lost allocation: retry after a backoff unless it cannot help.
    func relayFailed(_ relay: Relay, permanent: Bool, now: Instant) {
        dropConnection(relay)
        // Set before the candidate goes, so that ICE does not fail for lack of the pairs it
        // took along while a new allocation can still replace it.
        if permanent || relay.closed {
            relay.lostAt = nil
        } else if relay.candidateAddress != nil {
            relay.lostAt = now
        }
        checkGatheringDone()
        withdrawRelayedCandidate(relay, now: now)
        if !relay.settled {
            relay.settled = true
            checkGatheringDone()
        }
        guard !permanent, !relay.closed else { return }
        relay.failures += 1
        let wait = RelayRetry.delay(afterFailures: relay.failures)
        relay.retryAt = now + wait
        Log.info("\(name): TURN \(relay.label): retrying in \(wait.milliseconds / 1000) s")
    }

    func dropConnection(_ relay: Relay) {
        guard let c = relay.connection else { return }
        c.close()
        loop.unregister(fd: c.descriptor)
        relay.connection = nil
        relay.watchingWrite = false
    }

    // MARK: Connection readiness

    func relayReadable(_ relay: Relay, now: Instant) {
        guard let c = relay.connection else { return }
        let server = relay.client.server
        c.readable(now: now) { frame in self.receivedFromServer(relay, frame, from: server, now: now) }
        serviceConnection(relay, c, now: now)
        flush(now: now)
    }

    func relayWritable(_ relay: Relay, now: Instant) {
        guard let c = relay.connection else { return }
        c.writable(now: now)
        serviceConnection(relay, c, now: now)
        flush(now: now)
    }

    func relayTimeout(_ relay: Relay, now: Instant) {
        if let c = relay.connection {
            c.handleTimeout(now: now)
            serviceConnection(relay, c, now: now)
        }
        if let lost = relay.lostAt, now >= lost + Session.reallocationPatience {
            // No new allocation in time: ICE may now judge the pairs it has.
            relay.lostAt = nil
            checkGatheringDone()
        }
        if let at = relay.retryAt, now >= at, !relay.closed {
            relay.retryAt = nil
            relay.client = Relay.makeClient(relay.config, server: relay.server)
            relay.channels.removeAll()
            if relay.needsFreshSocket { rebindRelaySocket(relay) }
            startAttempt(relay, now: now)
        }
        flush(now: now)
    }

    /// Acts on what the connection reported and keeps the write interest in step.
    func serviceConnection(_ relay: Relay, _ c: TURNStreamConnection, now: Instant) {
        while let e = c.pollEvent() {
            switch e {
            case .opened:
                Log.debug("\(name): TURN \(relay.label): connected")
                startClient(relay, now: now)
            case .failed(let error):
                let gone = relay.client.state == .allocated
                Log.warning("\(name): TURN \(relay.label): \(error.description)" + (gone ? "; the allocation is gone" : ""))
                dropConnection(relay)
                // The client fails with .connectionLost; flushRelays schedules the retry.
                relay.client.connectionLost(now: now)
            }
        }
        updateWriteInterest(relay)
    }

    func updateWriteInterest(_ relay: Relay) {
        guard let c = relay.connection else { return }
        let want = c.wantsWrite
        if want != relay.watchingWrite {
            loop.watchWritable(fd: c.descriptor, want)
            relay.watchingWrite = want
        }
    }

    // MARK: Data path

    /// Sends `bytes` from a local base: a host socket, or through the relay whose relayed
    /// address it is (Send indication or ChannelData).
    func send(_ bytes: UnsafeRawBufferPointer, from source: TransportAddress, to destination: TransportAddress, now: Instant) {
        if let relay = relays.first(where: { $0.client.relayedAddress == source }) {
            guard relay.client.state == .allocated else { return }
            if !relay.client.hasPermission(destination.ip) {
                // RFC 8656 §9: the server relays only to peers with a permission. The check is
                // retransmitted once the permission is in.
                try? relay.client.createPermission(peer: destination, now: now)
            }
            do throws(TURNError) { try relay.client.send(bytes, to: destination, now: now) } catch {
                Log.debug("\(name): relay send to \(destination) failed")
            }
            drainTransmits(relay)
            return
        }
        guard let s = sockets.first(where: { $0.localAddress == source }) else { return }
        pcap?.record(bytes, from: source, to: destination)
        do throws(SocketError) { try s.send(bytes, to: destination) } catch {
            Log.debug("\(name): send to \(destination) failed: \(error.description)")
        }
    }

    /// Sends what the TURN client queued (its ring is small: media drains it per packet):
    /// datagrams on the base socket, or frames on the TCP/TLS connection.
    func drainTransmits(_ relay: Relay) {
        if let socket = relay.socket {
            while let t = relay.client.pollTransmit() {
                pcap?.record(t.bytes, from: socket.localAddress, to: t.destination)
                try? socket.send(t.bytes, to: t.destination)
            }
        } else {
            while let t = relay.client.pollTransmit() {
                // Dropped (and counted by the connection) when it is not open or is full.
                relay.connection?.send(t.bytes)
            }
            updateWriteInterest(relay)
        }
    }

    /// TURN transmits go to the servers; TURN events feed the agent.
    func flushRelays(now: Instant) {
        for relay in relays {
            drainTransmits(relay)
            if let c = relay.connection, c.phase == .failed { serviceConnection(relay, c, now: now) }
            while let e = relay.client.pollEvent() {
                switch e {
                case .allocated(let relayed, let mapped, let lifetime):
                    Log.info("\(name): TURN \(relay.label) allocated \(relayed) (lifetime \(lifetime.milliseconds / 1000) s)")
                    relay.failures = 0
                    relay.redirects = 0
                    if relay.candidateAddress != relayed {
                        withdrawRelayedCandidate(relay, now: now)
                        do throws(ICEError) {
                            try agent.addRelayedCandidate(address: relayed, server: relay.server,
                                                          serverTransport: relay.config.transport, mappedAddress: mapped,
                                                          localPreference: relay.localPreference)
                            relay.candidateAddress = relayed
                        } catch {
                            Log.warning("\(name): relayed candidate not added")
                        }
                    }
                    if relay.lostAt != nil {
                        relay.lostAt = nil
                        checkGatheringDone()
                    }
                    // Permissions for every remote candidate known so far (RFC 8445 §5.1.1.2
                    // relayed checks need them before they can go through).
                    for r in agent.remoteCandidates { permitOnRelays(r.address, now: now) }
                    if !relay.settled {
                        relay.settled = true
                        checkGatheringDone()
                    }
                case .failed(let f):
                    Log.warning("\(name): TURN \(relay.label) failed: \(f.description)")
                    if f == .allocationMismatch && relay.config.transport == .udp { relay.needsFreshSocket = true }
                    relayFailed(relay, permanent: f.isConfigurationError, now: now)
                case .retrying(let f, let after):
                    Log.info("\(name): TURN \(relay.label): \(f.description), retrying in \(after.milliseconds) ms")
                case .redirected(let to):
                    Log.info("\(name): TURN \(relay.label): redirected to \(to)")
                    if relay.config.transport.isStream {
                        // A new server needs a new connection (and a client that talks to it).
                        relay.redirects += 1
                        dropConnection(relay)
                        guard relay.redirects <= 1 else {
                            Log.warning("\(name): TURN \(relay.label): too many redirects")
                            relayFailed(relay, permanent: true, now: now)
                            break
                        }
                        relay.server = to
                        if let domain = relay.client.alternateDomain { relay.serverName = domain }
                        relay.client = Relay.makeClient(relay.config, server: to)
                        startAttempt(relay, now: now)
                    }
                case .deallocated:
                    Log.debug("\(name): TURN \(relay.label) deallocated")
                case .tableFull:
                    Log.warning("\(name): TURN table full")
                default:
                    break
                }
            }
            drainTransmits(relay)
        }
    }

    /// The allocation behind the relay's candidate is gone (RFC 8656 §3.1: lost with its
    /// connection, expired, or replaced by a new one): the candidate leaves the agent, so no
    /// check or media goes from an address that no longer relays, a pair through it stops
    /// carrying media at once rather than when consent expires (RFC 7675), and the replacement
    /// takes a table slot the old one frees.
    func withdrawRelayedCandidate(_ relay: Relay, now: Instant) {
        guard let old = relay.candidateAddress else { return }
        relay.candidateAddress = nil
        relay.channels.removeAll()
        if agent.removeLocalCandidate(old, now: now) {
            Log.info("\(name): TURN \(relay.label): relayed candidate \(old) withdrawn")
        }
    }

    func permitOnRelays(_ peer: TransportAddress, now: Instant) {
        for relay in relays where relay.client.state == .allocated {
            guard let relayed = relay.client.relayedAddress, relayed.ip.isIPv4 == peer.ip.isIPv4 else { continue }
            if !relay.client.hasPermission(peer.ip) { try? relay.client.createPermission(peer: peer, now: now) }
        }
    }

    /// Media on a relayed selected pair uses a channel (4 bytes of overhead instead of 36).
    func bindChannel(relayed: TransportAddress, peer: TransportAddress, now: Instant) {
        guard let relay = relays.first(where: { $0.client.relayedAddress == relayed }), relay.client.state == .allocated,
              !relay.channels.contains(peer) else { return }
        relay.channels.append(peer)
        _ = try? relay.client.bindChannel(peer: peer, now: now)
    }

    /// A datagram from a TURN server over UDP: unwrap relayed data for the agent and the media
    /// path. Returns false when it was not from a TURN server on this socket.
    func receivedFromRelay(_ bytes: UnsafeRawBufferPointer, from: TransportAddress, on socket: UDPSocket, now: Instant) -> Bool {
        guard let relay = relays.first(where: { $0.socket === socket && $0.client.server == from }) else { return false }
        receivedFromServer(relay, bytes, from: from, now: now)
        return true
    }

    /// One datagram or stream frame from the relay's server.
    func receivedFromServer(_ relay: Relay, _ bytes: UnsafeRawBufferPointer, from: TransportAddress, now: Instant) {
        switch relay.client.handle(packet: bytes, from: from, now: now) {
        case .data(let peer, let payload):
            guard let relayed = relay.client.relayedAddress else { break }
            let d = agent.handle(packet: payload, from: peer, to: relayed, now: now)
            if d == .notSTUN { relayFromPeer(payload, from: peer, on: relayed, now: now) }
        case .handled, .dropped, .notFromServer:
            break
        }
        flush(now: now)
    }

    /// How long a relay that lost its allocation may take to get a new one before ICE judges
    /// the pairs left without it: the consent timeout (RFC 7675 §5.1), the time its pairs
    /// would have had before their consent expired.
    static let reallocationPatience = Timing.consentTimeout

    /// End-of-candidates waits for the agent's own gathering and for every relay to settle.
    /// It goes out at the end of `flush`, after the candidates still queued as agent events.
    /// A relay re-allocating after a loss also counts as gathering for the agent's verdict.
    func checkGatheringDone() {
        let settled = relays.allSatisfy { $0.settled }
        agent.externalGatheringPending = !settled || relays.contains { $0.lostAt != nil }
        guard !gatheringDone, agentGatheringDone, settled else { return }
        gatheringDone = true
        endOfCandidatesPending = true
    }

    func sendEndOfCandidatesIfPending() {
        guard endOfCandidatesPending else { return }
        endOfCandidatesPending = false
        if descriptionSent {
            signaling?.sendEndOfCandidates()
        } else {
            sendDescription()  // carries a=end-of-candidates itself
        }
    }

    /// Deallocates (Refresh LIFETIME 0; on TCP/TLS closing the connection ends it too) and
    /// takes the relays off the event loop.
    func closeRelays(now: Instant) {
        guard !relays.isEmpty else { return }
        for relay in relays {
            relay.closed = true
            relay.retryAt = nil
            relay.client.close(now: now)
        }
        flushRelays(now: now)
        for relay in relays {
            dropConnection(relay)
            if relay.ownsSocket, let s = relay.socket { loop.unregister(fd: s.descriptor) }
            if let driver = relay.driver {
                loop.removeTimerClient(driver)
                relay.driver = nil
            }
        }
    }
}

extension TURNFailure {
    /// Failures a retry cannot fix: the configuration (credentials, realm, what the server
    /// offers) must change first.
    var isConfigurationError: Bool {
        switch self {
        case .wrongCredentials, .forbidden, .realmMismatch, .unsupportedPasswordAlgorithm, .unsupportedTransport,
             .addressFamilyNotSupported, .tooManyRedirects:
            return true
        default:
            return false
        }
    }
}
