import Common
import ICE
import TURN

/// The relays of a `Connection`: allocation attempts, what their clients report, retries
/// and the data path through them.
extension Connection {
    // MARK: Stream connections (reported by the owner)

    /// The relay's TCP or TLS connection is open (and, for TLS, its certificate checked): the
    /// Allocate goes out on it.
    public func streamOpened(relay index: Int, now: Instant) {
        clock = now
        guard index >= 0, index < relays.count, relays[index].isStream, !relays[index].closed else { return }
        startClient(relays[index], now: now)
        settle(now: now)
    }

    /// The relay's stream connection failed or ended (RFC 8656 §3.1: the allocation goes with
    /// it); a retry follows after the backoff.
    public func streamFailed(relay index: Int, now: Instant) {
        clock = now
        guard index >= 0, index < relays.count, relays[index].isStream else { return }
        relays[index].client.connectionLost(now: now)
        settle(now: now)
    }

    /// The fresh UDP socket asked for by `.bindRelaySocket` is bound to `base`.
    public func relaySocketBound(relay index: Int, base: TransportAddress) {
        guard index >= 0, index < relays.count, !relays[index].isStream else { return }
        relays[index].base = base
    }

    // MARK: Attempts

    func startAttempt(_ relay: RelayAllocation<R>, now: Instant) {
        if relay.isStream {
            emit(.openStream(relay: relay.index, server: relay.server, serverName: relay.serverName))
        } else {
            startClient(relay, now: now)
        }
    }

    func startClient(_ relay: RelayAllocation<R>, now: Instant) {
        do throws(TURNError) { try relay.client.start(now: now) } catch {
            relayFailed(relay, .malformedResponse, permanent: true, now: now)
        }
    }

    /// A failed attempt or a lost allocation: retry after a backoff unless it cannot help.
    func relayFailed(_ relay: RelayAllocation<R>, _ failure: TURNFailure, permanent: Bool, now: Instant) {
        relay.lastFailure = failure
        if relay.isStream && !relay.closed { emit(.closeStream(relay: relay.index)) }
        // Set before the candidate goes, so that ICE does not fail for lack of the pairs it
        // took along while a new allocation can still replace it.
        if permanent || relay.closed {
            relay.lostAt = nil
        } else if relay.candidateAddress != nil {
            relay.lostAt = now
        }
        withdrawRelayedCandidate(relay, now: now)
        relay.settled = true
        guard !permanent, !relay.closed else {
            emit(.relayFailed(relay: relay.index, failure, retryIn: nil))
            return
        }
        relay.failures += 1
        let wait = RelayRetry.delay(afterFailures: relay.failures)
        relay.retryAt = now + wait
        emit(.relayFailed(relay: relay.index, failure, retryIn: wait))
    }

    /// The relay's retry and re-allocation deadlines (its client's own timers run in `settle`).
    func relayTimeout(_ relay: RelayAllocation<R>, now: Instant) {
        if let lost = relay.lostAt, now >= lost + Connection.reallocationPatience {
            // No new allocation in time: ICE may now judge the pairs it has.
            relay.lostAt = nil
        }
        if let at = relay.retryAt, now >= at, !relay.closed {
            relay.retryAt = nil
            relay.client = relay.configuration.makeClient(server: relay.server, random: random.split())
            relay.channels.removeAll(keepingCapacity: true)
            startAttempt(relay, now: now)
        }
    }

    /// UDP relays whose local address went away, and those left waiting for one. An
    /// allocation belongs to its client's 5-tuple (RFC 8656 §2.2): from an address that is
    /// gone it can be neither refreshed nor deleted, and lapses on the server. Each starts a
    /// new allocation from a new address of the server's family (the first one added, else
    /// another base still in use), or waits without a candidate for the next address.
    func rebaseRelays(added: [TransportAddress], removed: [TransportAddress], now: Instant) {
        var any = false
        for relay in relays where !relay.isStream && !relay.closed {
            let old = relay.base
            guard old.map({ removed.contains($0) }) ?? true else { continue }
            let v4 = relay.server.ip.isIPv4
            var next = added.first { $0.ip.isIPv4 == v4 }
            if next == nil {
                for c in agent.localCandidates where c.type == .host && c.base.ip.isIPv4 == v4 && !removed.contains(c.base) {
                    next = c.base
                    break
                }
            }
            if next == nil {
                for r in relays where !r.isStream && r !== relay {
                    if let b = r.base, b.ip.isIPv4 == v4, !removed.contains(b) { next = b; break }
                }
            }
            guard old != nil || next != nil else { continue }
            any = true
            withdrawRelayedCandidate(relay, now: now)
            relay.client = relay.configuration.makeClient(server: relay.server, random: random.split())
            relay.channels.removeAll(keepingCapacity: true)
            relay.retryAt = nil
            relay.lostAt = nil
            relay.failures = 0
            relay.base = next
            emit(.relayRebased(relay: relay.index, from: old, to: next))
            // Gathering waits for the new allocation: its candidate belongs in this generation.
            relay.settled = next == nil
            if next != nil { startClient(relay, now: now) }
        }
        if any { updateGatheringPending() }
    }

    // MARK: What the clients report

    func drainRelayEvents(now: Instant) -> Bool {
        var any = false
        for relay in relays {
            while let e = relay.client.pollEvent() {
                any = true
                relayEvent(e, relay, now: now)
            }
        }
        return any
    }

    func relayEvent(_ e: TURNEvent, _ relay: RelayAllocation<R>, now: Instant) {
        switch e {
        case .allocated(let relayed, let mapped, let lifetime):
            relay.failures = 0
            relay.redirects = 0
            relay.lastFailure = nil
            relay.lostAt = nil
            if relay.candidateAddress != relayed {
                withdrawRelayedCandidate(relay, now: now)
                do throws(ICEError) {
                    try agent.addRelayedCandidate(address: relayed, server: relay.server,
                                                  serverTransport: relay.configuration.transport, mappedAddress: mapped,
                                                  localPreference: relay.configuration.localPreference)
                    relay.candidateAddress = relayed
                    relay.lastRelayed = relayed
                } catch {
                    emit(.tableFull(.localCandidates))
                }
            }
            relay.settled = true
            emit(.relayAllocated(relay: relay.index, relayed: relayed, lifetime: lifetime))
            // Permissions for every remote candidate known so far (RFC 8445 §5.1.1.2:
            // relayed checks need them before they can go through).
            for r in agent.remoteCandidates { permit(r.address, on: relay, now: now) }
        case .failed(let f):
            if f == .allocationMismatch && !relay.isStream && !relay.closed {
                // RFC 8656 §7.2, §7.4: try again from another client port rather than wait
                // out the old allocation's lifetime.
                emit(.bindRelaySocket(relay: relay.index))
            }
            relayFailed(relay, f, permanent: f.isConfigurationError, now: now)
        case .retrying:
            break  // not with `allocateAttempts` 1: retries are `relayFailed`'s
        case .redirected(let to):
            emit(.relayRedirected(relay: relay.index, to: to))
            // Over UDP the client follows the redirect itself; a stream needs a new connection.
            if relay.isStream && !relay.closed { followRedirect(relay, to: to, now: now) }
        case .tableFull(let t):
            emit(.relayTableFull(relay: relay.index, t))
        case .deallocated:
            emit(.relay(relay: relay.index, e))
            if relay.isStream { emit(.closeStream(relay: relay.index)) }
        case .refreshed, .permissionCreated, .permissionFailed, .channelBound, .channelBindFailed:
            emit(.relay(relay: relay.index, e))
        }
    }

    /// A 300 Try Alternate on a TCP or TLS relay (RFC 8489 §10, RFC 8656 §7.4): a new
    /// connection to the alternate server, once; a second redirect is final.
    func followRedirect(_ relay: RelayAllocation<R>, to: TransportAddress, now: Instant) {
        relay.redirects += 1
        let domain = relay.client.alternateDomain
        // The client has already sent its Allocate to `to` on the connection that closes
        // now: an idle one replaces it whether or not the redirect is followed, so nothing
        // more goes out on that stream and no failure of it revives the relay.
        relay.client = relay.configuration.makeClient(server: to, random: random.split())
        guard relay.redirects <= 1 else {
            relayFailed(relay, .tooManyRedirects, permanent: true, now: now)  // closes the stream
            return
        }
        emit(.closeStream(relay: relay.index))
        relay.server = to
        if let domain { relay.serverName = domain }
        startAttempt(relay, now: now)
    }

    /// The allocation behind the relay's candidate is gone (RFC 8656 §3.1: lost with its
    /// connection, expired, or replaced by a new one): the candidate leaves the agent, so no
    /// check or media goes from an address that no longer relays, a pair through it stops
    /// carrying media at once rather than when consent expires (RFC 7675), and the replacement
    /// takes a table slot the old one frees.
    func withdrawRelayedCandidate(_ relay: RelayAllocation<R>, now: Instant) {
        guard let old = relay.candidateAddress else { return }
        relay.candidateAddress = nil
        relay.channels.removeAll(keepingCapacity: true)
        updateGatheringPending()
        if agent.removeLocalCandidate(old, now: now) { emit(.relayCandidateWithdrawn(relay: relay.index, old)) }
    }

    // MARK: Permissions, channels, data

    func permitOnRelays(_ peer: TransportAddress, now: Instant) {
        for relay in relays { permit(peer, on: relay, now: now) }
    }

    /// RFC 8656 §9: the server relays only to and from permitted IPs. Remote candidates of
    /// the other family cannot be reached through this allocation and get none.
    func permit(_ peer: TransportAddress, on relay: RelayAllocation<R>, now: Instant) {
        guard relay.client.state == .allocated, let relayed = relay.client.relayedAddress,
              relayed.ip.isIPv4 == peer.ip.isIPv4, !relay.client.hasPermission(peer.ip)
        else { return }
        try? relay.client.createPermission(peer: peer, now: now)
    }

    /// Media on a relayed selected pair uses a channel: 4 bytes of overhead instead of 36
    /// (RFC 8656 §12).
    func bindChannel(relayed: TransportAddress, peer: TransportAddress, now: Instant) {
        guard let relay = relayOwning(relayed), !relay.channels.contains(peer) else { return }
        relay.channels.append(peer)
        _ = try? relay.client.bindChannel(peer: peer, now: now)
    }

    /// Wraps one datagram for `peer` (Send indication or ChannelData). A peer learned only
    /// now (peer-reflexive) gets its permission first; the CreatePermission leaves before the
    /// data on the same path, so the server has installed it when the data arrives.
    func wrap(_ bytes: UnsafeRawBufferPointer, through relay: RelayAllocation<R>, to peer: TransportAddress,
              now: Instant) -> Bool {
        permit(peer, on: relay, now: now)
        do throws(TURNError) {
            try relay.client.send(bytes, to: peer, now: now)
            return true
        } catch {
            return false
        }
    }
}
