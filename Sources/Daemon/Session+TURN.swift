import Common
import ICE
import Runtime
import STUN
import TURN

/// A TURN server to allocate a relayed candidate on (RFC 8656), with its long-term credential.
public struct TURNServerConfig: Sendable {
    public var server: TransportAddress
    public var username: String
    public var password: String

    public init(server: TransportAddress, username: String, password: String) {
        self.server = server
        self.username = username
        self.password = password
    }
}

/// One allocation: the client and the base socket it talks to its server through (TURN
/// shares the socket with STUN and media, told apart by the server's address).
final class Relay {
    let client: TURNClient<SystemRandom>
    let socket: UDPSocket
    let config: TURNServerConfig
    /// Allocated or failed: either way gathering no longer waits for it.
    var settled = false
    /// Remote addresses a channel was requested for.
    var channels: [TransportAddress] = []

    init(client: TURNClient<SystemRandom>, socket: UDPSocket, config: TURNServerConfig) {
        self.client = client
        self.socket = socket
        self.config = config
    }
}

extension Session {
    func startRelays(now: Instant) {
        for config in turnServers {
            guard let socket = sockets.first(where: { $0.localAddress.ip.isIPv4 == config.server.ip.isIPv4 }) else {
                Log.warning("\(name): no local address of the family of TURN server \(config.server)")
                continue
            }
            let client = TURNClient(server: config.server, username: config.username, password: config.password,
                                    random: SystemRandom())
            let relay = Relay(client: client, socket: socket, config: config)
            relays.append(relay)
            agent.externalGatheringPending = true
            do throws(TURNError) { try client.start(now: now) } catch {
                Log.warning("\(name): TURN \(config.server): cannot start")
                relay.settled = true
            }
        }
    }

    /// Sends `bytes` from a local base: a host socket, or through the relay whose relayed
    /// address it is (Send indication or ChannelData).
    func send(_ bytes: UnsafeRawBufferPointer, from source: TransportAddress, to destination: TransportAddress, now: Instant) {
        if let relay = relays.first(where: { $0.client.relayedAddress == source }) {
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

    /// Sends what the TURN client queued (its ring is small: media drains it per packet).
    func drainTransmits(_ relay: Relay) {
        while let t = relay.client.pollTransmit() {
            pcap?.record(t.bytes, from: relay.socket.localAddress, to: t.destination)
            try? relay.socket.send(t.bytes, to: t.destination)
        }
    }

    /// TURN transmits go to the servers; TURN events feed the agent.
    func flushRelays(now: Instant) {
        for relay in relays {
            drainTransmits(relay)
            while let e = relay.client.pollEvent() {
                switch e {
                case .allocated(let relayed, let mapped, let lifetime):
                    Log.info("\(name): TURN \(relay.config.server) allocated \(relayed) (lifetime \(lifetime.milliseconds / 1000) s)")
                    do throws(ICEError) {
                        try agent.addRelayedCandidate(address: relayed, server: relay.config.server, mappedAddress: mapped)
                    } catch {
                        Log.warning("\(name): relayed candidate not added")
                    }
                    // Permissions for every remote candidate known so far (RFC 8445 §5.1.1.2
                    // relayed checks need them before they can go through).
                    for r in agent.remoteCandidates { permitOnRelays(r.address, now: now) }
                    relay.settled = true
                    checkGatheringDone()
                case .failed(let f):
                    Log.warning("\(name): TURN \(relay.config.server) failed: \(f.description)")
                    relay.settled = true
                    checkGatheringDone()
                case .retrying(let f, let after):
                    Log.info("\(name): TURN \(relay.config.server): \(f.description), retrying in \(after.milliseconds) ms")
                case .deallocated:
                    Log.debug("\(name): TURN \(relay.config.server) deallocated")
                case .tableFull:
                    Log.warning("\(name): TURN table full")
                default:
                    break
                }
            }
            drainTransmits(relay)
        }
    }

    func permitOnRelays(_ peer: TransportAddress, now: Instant) {
        for relay in relays where relay.client.relayedAddress != nil && relay.client.relayedAddress!.ip.isIPv4 == peer.ip.isIPv4 {
            if !relay.client.hasPermission(peer.ip) { try? relay.client.createPermission(peer: peer, now: now) }
        }
    }

    /// Media on a relayed selected pair uses a channel (4 bytes of overhead instead of 36).
    func bindChannel(relayed: TransportAddress, peer: TransportAddress, now: Instant) {
        guard let relay = relays.first(where: { $0.client.relayedAddress == relayed }), !relay.channels.contains(peer) else { return }
        relay.channels.append(peer)
        _ = try? relay.client.bindChannel(peer: peer, now: now)
    }

    /// A datagram from a TURN server: unwrap relayed data for the agent and the media path.
    /// Returns false when it was not from a TURN server on this socket.
    func receivedFromRelay(_ bytes: UnsafeRawBufferPointer, from: TransportAddress, on socket: UDPSocket, now: Instant) -> Bool {
        guard let relay = relays.first(where: { $0.socket === socket && $0.client.server == from }) else { return false }
        switch relay.client.handle(packet: bytes, from: from, now: now) {
        case .data(let peer, let payload):
            guard let relayed = relay.client.relayedAddress else { break }
            let d = agent.handle(packet: payload, from: peer, to: relayed, now: now)
            if d == .notSTUN { relayFromPeer(payload, from: peer, on: relayed, now: now) }
        case .handled, .dropped:
            break
        case .notFromServer:
            return false
        }
        flush(now: now)
        return true
    }

    /// End-of-candidates waits for the agent's own gathering and for every relay to settle.
    /// It goes out at the end of `flush`, after the candidates still queued as agent events.
    func checkGatheringDone() {
        agent.externalGatheringPending = !relays.allSatisfy { $0.settled }
        guard !gatheringDone, agentGatheringDone, !agent.externalGatheringPending else { return }
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

    func closeRelays(now: Instant) {
        guard !relays.isEmpty else { return }
        for relay in relays { relay.client.close(now: now) }
        flushRelays(now: now)
    }
}
