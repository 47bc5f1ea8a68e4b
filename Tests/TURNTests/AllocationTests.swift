import Common
import STUN
import Testing
@testable import TURN

@Suite struct AllocationTests {
    @Test func challengeThenAuthenticatedAllocate() {
        let c = makeClient { $0.requestedLifetime = 900 }
        let s = FakeServer()
        try! c.start(now: at(0))
        #expect(c.state == .allocating)
        let first = drain(c)
        #expect(first.count == 1)
        let a = first[0]
        #expect(a.destination == serverAddress)
        #expect(a.method == .allocate && a.messageClass == .request)
        #expect(a.requestedTransport == 17)
        #expect(a.requestedFamily == nil)  // IPv4 is the default: attribute absent (RFC 8656 §7.1)
        #expect(a.lifetime == 900)
        #expect(a.username == nil && !a.hasIntegrity)
        #expect(a.fingerprintOK)

        #expect(c.receive(s.challenge(a), now: at(0.05)).isHandled)
        let b = drain(c)[0]
        #expect(b.method == .allocate)
        #expect(b.id != a.id)  // a new transaction
        #expect(b.username == "alice" && b.realm == "example.org" && b.nonce == "nonce-1")
        #expect(b.requestedTransport == 17 && b.lifetime == 900)
        #expect(b.hasIntegrity && !b.hasIntegritySHA256)
        #expect(b.passwordAlgorithm == nil && b.passwordAlgorithms == nil)
        #expect(b.integrity(s.key) == .ok)
        #expect(b.fingerprintOK)

        #expect(c.receive(s.allocateSuccess(b, lifetime: 900), now: at(0.1)).isHandled)
        let events = drainEvents(c)
        #expect(events.count == 1)
        guard case .allocated(let relayed, let mapped, let lifetime) = events.first else {
            Issue.record("expected .allocated, got \(events)")
            return
        }
        #expect(relayed == relayedAddress && mapped == mappedAddress && lifetime == .seconds(900))
        #expect(c.state == .allocated && c.relayedAddress == relayedAddress)
        // Next: the UDP keepalive, 15 s after the last thing sent (the Allocate at 0.05);
        // without it, the refresh 60 s before expiry and nothing else.
        #expect(c.nextDeadline == at(0.05) + TURNTiming.keepaliveInterval)
        #expect(c.keepaliveAt == at(0.05) + .seconds(15))
        #expect(c.refreshAt == at(0.1) + .seconds(840))
    }

    @Test func ipv6FamilyIsRequested() {
        let c = makeClient { $0.addressFamily = .ipv6 }
        try! c.start(now: at(0))
        #expect(drain(c)[0].requestedFamily == 0x02)
    }

    @Test func sha256PasswordAlgorithmWhenOffered() {
        let c = makeClient()
        var s = FakeServer()
        try! c.start(now: at(0))
        let a = drain(c)[0]
        c.receive(s.challenge(a, algorithms: [.md5, .sha256]), now: at(0.01))
        let b = drain(c)[0]
        // RFC 8489 §9.2.4: the list echoed verbatim plus the chosen algorithm.
        #expect(b.passwordAlgorithms == [0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00])
        #expect(b.passwordAlgorithm == PasswordAlgorithm.sha256.rawValue)
        #expect(b.hasIntegritySHA256)
        s.algorithm = .sha256
        #expect(b.integrity(s.key) == .ok)
        #expect(c.passwordAlgorithm == .sha256)
        c.receive(s.allocateSuccess(b), now: at(0.02))
        #expect(c.state == .allocated)
    }

    @Test func md5OnlyListIsEchoed() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0], algorithms: [.md5]), now: at(0.01))
        let b = drain(c)[0]
        #expect(b.passwordAlgorithm == PasswordAlgorithm.md5.rawValue)
        #expect(b.hasIntegrity && !b.hasIntegritySHA256)
        #expect(b.integrity(s.key) == .ok)
    }

    @Test func nonceCookieWithoutAlgorithmsIsADowngrade() {
        let c = makeClient()
        var s = FakeServer()
        // "obMatJos2" + "gAAA": feature bit 0 (password algorithms) set, but no list.
        s.nonce = "obMatJos2gAAAabcdef"
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        #expect(drainEvents(c).contains { if case .failed(.malformedResponse) = $0 { true } else { false } })
    }

    @Test func expectedRealmMismatchFails() {
        let c = makeClient { $0.expectedRealm = "other.example" }
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        #expect(drain(c).isEmpty)
        #expect(drainEvents(c).contains { if case .failed(.realmMismatch) = $0 { true } else { false } })
    }

    @Test func staleNonceOnAllocateRetriesWithNewNonce() {
        let c = makeClient()
        var s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        let b = drain(c)[0]
        s.nonce = "nonce-2"
        // 438 carries the new NONCE and REALM, no integrity (RFC 8489 §9.2.4).
        #expect(c.receive(s.challenge(b, code: 438), now: at(0.02)).isHandled)
        let retry = drain(c)[0]
        #expect(retry.nonce == "nonce-2" && retry.id != b.id)
        #expect(retry.integrity(s.key) == .ok)
        #expect(c.counters.staleNonceRetries == 1)
        c.receive(s.allocateSuccess(retry), now: at(0.03))
        #expect(c.state == .allocated)
    }

    @Test func staleNonceLoopGivesUp() {
        let c = makeClient()
        var s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        var req = drain(c)[0]
        for k in 0..<TURNTiming.maxStaleNonceRetries {
            s.nonce = "n\(k)"
            c.receive(s.challenge(req, code: 438), now: at(0.02))
            req = drain(c)[0]
        }
        c.receive(s.challenge(req, code: 438), now: at(0.03))
        #expect(drain(c).isEmpty)
        #expect(drainEvents(c).contains { if case .failed(.staleNonceLoop) = $0 { true } else { false } })
    }

    @Test func tryAlternateOnceThenGiveUp() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        let a = drain(c)[0]
        let redirect = s.respond(to: a, .errorResponse, sign: nil) { b in
            try b.appendErrorCode(300)
            try b.append(.alternateServer, address: alternateAddress)
            try b.append(.alternateDomain, text: "turn2.example.org")
        }
        #expect(c.alternateDomain == nil)
        #expect(c.receive(redirect, now: at(0.01)).isHandled)
        #expect(c.server == alternateAddress)
        // RFC 8489 §10: over TLS the alternate's certificate is checked against this name.
        #expect(c.alternateDomain == "turn2.example.org")
        let events = drainEvents(c)
        #expect(events.contains { if case .redirected(let to) = $0 { to == alternateAddress } else { false } })
        let b = drain(c)[0]
        #expect(b.destination == alternateAddress && b.method == .allocate && !b.hasIntegrity)
        // The old server is no longer ours.
        #expect(c.receive(s.challenge(b), from: serverAddress, now: at(0.02)).isNotFromServer)
        // The alternate challenges, then redirects again: one redirect only.
        var alt = FakeServer()
        alt.address = alternateAddress
        c.receive(alt.challenge(b), from: alternateAddress, now: at(0.02))
        let b2 = drain(c)[0]
        #expect(b2.destination == alternateAddress && b2.integrity(alt.key) == .ok)
        let again = alt.respond(to: b2, .errorResponse, sign: alt.key) { b in
            try b.appendErrorCode(300)
            try b.append(.alternateServer, address: serverAddress)
        }
        c.receive(again, from: alternateAddress, now: at(0.03))
        #expect(c.state == .failed)
        #expect(drainEvents(c).contains { if case .failed(.tooManyRedirects) = $0 { true } else { false } })
    }

    @Test func wrongCredentials441IsFinal() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        let b = drain(c)[0]
        c.receive(s.error(b, 441), now: at(0.02))
        #expect(c.state == .failed)
        #expect(drain(c).isEmpty)
        #expect(c.nextDeadline == nil)
        let events = drainEvents(c)
        #expect(events.count == 1)
        #expect(events.contains { if case .failed(.wrongCredentials) = $0 { true } else { false } })
    }

    @Test func second401MeansWrongPassword() {
        let c = Client(server: serverAddress, username: "alice", password: "not-the-password",
                       random: SeededRandom(seed: 3))
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        let b = drain(c)[0]
        #expect(b.integrity(s.key) == .bad)
        // The server rejects the MAC with another 401 (no integrity, it cannot sign).
        c.receive(s.challenge(b), now: at(0.02))
        #expect(c.state == .failed)
        #expect(drainEvents(c).contains { if case .failed(let f) = $0 { f == .wrongCredentials && f.description.contains("wrong credentials") } else { false } })
    }

    @Test func quotaAndCapacityRetryWithBackoff() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        c.receive(s.error(drain(c)[0], 486), now: at(0.02))
        #expect(drainEvents(c).contains { if case .retrying(.quotaReached, let after) = $0 { after == .seconds(5) } else { false } })
        #expect(drain(c).isEmpty)
        #expect(c.nextDeadline == at(0.02) + .seconds(5))
        c.handleTimeout(now: at(5.02))
        let second = drain(c)
        #expect(second.count == 1 && second[0].method == .allocate && second[0].integrity(s.key) == .ok)
        c.receive(s.error(second[0], 508), now: at(5.03))
        #expect(drainEvents(c).contains { if case .retrying(.insufficientCapacity, let after) = $0 { after == .seconds(10) } else { false } })
        c.handleTimeout(now: at(15.03))
        c.receive(s.error(drain(c)[0], 508), now: at(15.04))
        #expect(c.state == .failed)
        #expect(drainEvents(c).contains { if case .failed(.insufficientCapacity) = $0 { true } else { false } })
    }

    @Test func allocationMismatchFails() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        c.receive(s.error(drain(c)[0], 437), now: at(0.02))
        #expect(drainEvents(c).contains { if case .failed(.allocationMismatch) = $0 { true } else { false } })
    }

    @Test func allocateRetransmitsOnTheRFC8489Schedule() {
        let c = makeClient { $0.rto = .milliseconds(100); $0.maxSends = 3 }
        try! c.start(now: at(0))
        #expect(drain(c).count == 1)
        #expect(c.nextDeadline == at(0.1))
        c.handleTimeout(now: at(0.1))
        let r = drain(c)
        #expect(r.count == 1)
        #expect(c.nextDeadline == at(0.3))  // RTO doubles
        c.handleTimeout(now: at(0.3))
        #expect(drain(c).count == 1)
        #expect(c.nextDeadline == at(0.3) + .milliseconds(1600))  // Rm * RTO after the last send
        c.handleTimeout(now: at(1.9))
        // Timed out: retried later with backoff (timeouts are retryable on Allocate).
        #expect(drainEvents(c).contains { if case .retrying(.timeout, _) = $0 { true } else { false } })
    }

    @Test func streamTransportDoesNotRetransmit() {
        let c = makeClient { $0.transport = .tcp }
        try! c.start(now: at(0))
        #expect(drain(c).count == 1)
        #expect(c.nextDeadline == at(39.5))  // RFC 8489 §6.2.2 Ti
        c.handleTimeout(now: at(20))
        #expect(drain(c).isEmpty)
    }

    @Test func refreshBeforeExpiryOnAVirtualClock() {
        // Refresh timing alone: keepalives (KeepaliveTests) would be the nearer deadline.
        let (c, s) = allocated(lifetime: 600) { $0.keepaliveInterval = nil }
        let t0 = at(0.02)
        #expect(c.nextDeadline == t0 + .seconds(540))
        c.handleTimeout(now: t0 + .seconds(300))
        #expect(drain(c).isEmpty)
        c.handleTimeout(now: t0 + .seconds(540))
        let r = drain(c)
        #expect(r.count == 1)
        #expect(r[0].method == .refresh && r[0].lifetime == nil && r[0].integrity(s.key) == .ok)
        c.receive(s.success(r[0], lifetime: 600), now: t0 + .milliseconds(540_050))
        #expect(drainEvents(c).contains { if case .refreshed(let l) = $0 { l == .seconds(600) } else { false } })
        #expect(c.nextDeadline == t0 + .milliseconds(540_050) + .seconds(540))
    }

    @Test func shortLifetimeRefreshesAtHalf() {
        let (c, _) = allocated(lifetime: 60) { $0.keepaliveInterval = nil }
        #expect(c.nextDeadline == at(0.02) + .seconds(30))
    }

    @Test func refreshTimeoutFailsTheAllocation() {
        let (c, _) = allocated(lifetime: 600)
        var now = at(0.02) + .seconds(540)
        c.handleTimeout(now: now)
        while let d = c.nextDeadline, c.state == .allocated {
            now = d
            c.handleTimeout(now: now)
        }
        #expect(c.state == .failed)
        #expect(drainEvents(c).contains { if case .failed(.timeout) = $0 { true } else { false } })
        #expect(c.counters.retransmits == TURNTiming.maxSends - 1)
    }

    @Test func refreshStaleNonceRetries() {
        let (c, s0) = allocated()
        var s = s0
        c.handleTimeout(now: at(540.02))
        let r = drain(c)[0]
        s.nonce = "fresh"
        c.receive(s.challenge(r, code: 438), now: at(540.03))
        let again = drain(c)[0]
        #expect(again.method == .refresh && again.nonce == "fresh")
        c.receive(s.success(again, lifetime: 600), now: at(540.04))
        #expect(c.state == .allocated)
    }

    @Test func closeDeallocatesWithLifetimeZero() {
        let (c, s) = allocated()
        c.close(now: at(1))
        #expect(c.state == .closing)
        let r = drain(c)
        #expect(r.count == 1 && r[0].method == .refresh && r[0].lifetime == 0 && r[0].integrity(s.key) == .ok)
        c.receive(s.success(r[0], lifetime: 0), now: at(1.01))
        #expect(c.state == .closed)
        #expect(drainEvents(c).contains { if case .deallocated = $0 { true } else { false } })
        #expect(c.nextDeadline == nil)
    }

    @Test func closeAnswered437StillDeallocates() {
        let (c, s) = allocated()
        c.close(now: at(1))
        c.receive(s.error(drain(c)[0], 437), now: at(1.01))
        #expect(c.state == .closed)
        #expect(drainEvents(c).contains { if case .deallocated = $0 { true } else { false } })
    }

    @Test func unspecifiedRelayedAddressIsRejected() {
        // coturn answers an Allocate retried after a 508 with XOR-RELAYED-ADDRESS 0.0.0.0:0.
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        let b = drain(c)[0]
        let zero = s.respond(to: b, .successResponse, sign: s.key) { b in
            try b.append(.xorRelayedAddress, xorAddress: TransportAddress(.v4(0), 0))
            try b.append(.lifetime, uint32: 600)
        }
        c.receive(zero, now: at(0.02))
        #expect(c.state == .failed)
        #expect(drainEvents(c).contains { if case .failed(.malformedResponse) = $0 { true } else { false } })
    }

    @Test func missingRelayedAddressIsRejected() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        c.receive(s.success(drain(c)[0], lifetime: 600), now: at(0.02))
        #expect(drainEvents(c).contains { if case .failed(.malformedResponse) = $0 { true } else { false } })
    }

    @Test func closeWhileAllocatingSendsNothing() {
        let c = makeClient()
        try! c.start(now: at(0))
        _ = drain(c)
        c.close(now: at(0.1))
        #expect(c.state == .closed)
        #expect(c.nextDeadline == nil)
        #expect(drain(c).isEmpty)
        // A late response is dropped, not a crash.
        #expect(dropReason(c.receive([0x01, 0x03, 0, 0, 0x21, 0x12, 0xA4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], now: at(0.2))) == .unexpected)
    }

    @Test func startTwiceIsATypedError() {
        let c = makeClient()
        try! c.start(now: at(0))
        #expect(throws: TURNError.alreadyStarted) { try c.start(now: at(0)) }
    }
}

extension TURNInput {
    var isHandled: Bool { if case .handled = self { true } else { false } }
    var isNotFromServer: Bool { if case .notFromServer = self { true } else { false } }
}
