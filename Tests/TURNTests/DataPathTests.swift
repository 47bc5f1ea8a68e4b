import Common
import STUN
import Testing
@testable import TURN

@Suite struct DataPathTests {
    @Test func createPermissionAndRefreshAt240Seconds() {
        // Refresh timing alone: keepalives (KeepaliveTests) would be the nearer deadline.
        let (c, s) = allocated { $0.keepaliveInterval = nil }
        try! c.createPermission(peer: peerA, now: at(1))
        let r = drain(c)
        #expect(r.count == 1)
        #expect(r[0].method == .createPermission && r[0].peer?.ip == peerA.ip && r[0].integrity(s.key) == .ok)
        #expect(!c.hasPermission(peerA.ip))
        c.receive(s.success(r[0]), now: at(1.01))
        #expect(c.hasPermission(peerA.ip))
        #expect(drainEvents(c).contains { if case .permissionCreated(let ip) = $0 { ip == peerA.ip } else { false } })
        // Asking again for the same IP (another port) sends nothing.
        try! c.createPermission(peer: TransportAddress(peerA.ip, 9), now: at(2))
        #expect(drain(c).isEmpty)
        // Refreshed 240 s after the success, before the 300 s lifetime.
        #expect(c.nextDeadline == at(1.01) + .seconds(240))
        c.handleTimeout(now: at(1.01) + .seconds(240))
        let refresh = drain(c)
        #expect(refresh.count == 1 && refresh[0].method == .createPermission && refresh[0].peer?.ip == peerA.ip)
        c.receive(s.success(refresh[0]), now: at(241.02))
        #expect(drainEvents(c).isEmpty)  // a refresh is not a new permission
    }

    @Test func permissionStaleNonceRetry() {
        let (c, s0) = allocated()
        var s = s0
        try! c.createPermission(peer: peerA, now: at(1))
        let r = drain(c)[0]
        s.nonce = "nonce-2"
        c.receive(s.challenge(r, code: 438), now: at(1.01))
        let retry = drain(c)[0]
        #expect(retry.method == .createPermission && retry.nonce == "nonce-2")
        c.receive(s.success(retry), now: at(1.02))
        #expect(c.hasPermission(peerA.ip))
        #expect(c.counters.staleNonceRetries == 1)
    }

    @Test func permissionForbidden() {
        let (c, s) = allocated()
        try! c.createPermission(peer: peerA, now: at(1))
        c.receive(s.error(drain(c)[0], 403), now: at(1.01))
        #expect(!c.hasPermission(peerA.ip))
        #expect(drainEvents(c).contains { if case .permissionFailed(_, .forbidden) = $0 { true } else { false } })
        #expect(trySend(c, [1, 1, 1, 1], to: peerA, now: at(2)) == .noPermission)
    }

    @Test func sendIndicationUntilTheChannelIsConfirmedThenChannelData() {
        let (c, s) = allocated()
        permit(c, s, peerA, now: at(1))
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        #expect(trySend(c, payload, to: peerA, now: at(2)) == nil)
        let ind = drain(c)
        #expect(ind.count == 1)
        #expect(ind[0].method == .send && ind[0].messageClass == .indication)
        #expect(ind[0].peer == peerA && ind[0].data == payload && !ind[0].hasIntegrity)

        let number = try! c.bindChannel(peer: peerA, now: at(3))
        #expect(number == 0x4000)
        let bind = drain(c)[0]
        #expect(bind.method == .channelBind && bind.channel == 0x4000 && bind.peer == peerA && bind.integrity(s.key) == .ok)
        // Not confirmed yet: still a Send indication.
        #expect(trySend(c, payload, to: peerA, now: at(3.01)) == nil)
        #expect(drain(c)[0].method == .send)
        #expect(c.channel(for: peerA) == nil)

        c.receive(s.success(bind), now: at(3.02))
        #expect(drainEvents(c).contains { if case .channelBound(let p, let n) = $0 { p == peerA && n == 0x4000 } else { false } })
        #expect(c.channel(for: peerA) == 0x4000)
        #expect(trySend(c, payload, to: peerA, now: at(4)) == nil)
        let cd = drain(c)[0]
        #expect(cd.isChannelData)
        #expect(cd.bytes == [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5])  // UDP: no padding
        #expect(c.counters.channelDataSent == 1 && c.counters.sendIndicationsSent == 2)

        // Another port on the same IP has no channel: Send indication.
        #expect(trySend(c, payload, to: TransportAddress(peerA.ip, 7777), now: at(4)) == nil)
        #expect(drain(c)[0].method == .send)
    }

    @Test func channelDataIsPaddedOnStreamTransports() {
        let (c, s) = allocated { $0.transport = .tcp }
        try! c.bindChannel(peer: peerA, now: at(1))
        c.receive(s.success(drain(c)[0]), now: at(1.01))
        #expect(trySend(c, [9, 8, 7], to: peerA, now: at(2)) == nil)
        let t = c.pollTransmit()!
        #expect(t.transport == .tcp)
        #expect(Array(t.bytes) == [0x40, 0x00, 0x00, 0x03, 9, 8, 7, 0])
    }

    @Test func channelBindingRefreshAndPermissionRefresh() {
        // Refresh timing alone: keepalives (KeepaliveTests) would be the nearer deadline.
        let (c, s) = allocated { $0.keepaliveInterval = nil }
        try! c.bindChannel(peer: peerA, now: at(1))
        c.receive(s.success(drain(c)[0]), now: at(1))
        let events = drainEvents(c)
        // The ChannelBind installed the permission too (RFC 8656 §12.2).
        #expect(events.contains { if case .permissionCreated(let ip) = $0 { ip == peerA.ip } else { false } })
        #expect(c.hasPermission(peerA.ip))
        // Permission refresh (CreatePermission) at 240 s.
        #expect(c.nextDeadline == at(241))
        c.handleTimeout(now: at(241))
        let p = drain(c)
        #expect(p.count == 1 && p[0].method == .createPermission)
        c.receive(s.success(p[0]), now: at(241))
        c.handleTimeout(now: at(481))
        c.receive(s.success(drain(c)[0]), now: at(481))
        // Allocation refresh at 540.02, channel refresh at 541.
        c.handleTimeout(now: at(540.02))
        let alloc = drain(c)
        #expect(alloc.count == 1 && alloc[0].method == .refresh)
        c.receive(s.success(alloc[0], lifetime: 600), now: at(540.03))
        #expect(c.nextDeadline == at(541))
        c.handleTimeout(now: at(541))
        let ch = drain(c)
        #expect(ch.count == 1 && ch[0].method == .channelBind && ch[0].channel == 0x4000 && ch[0].peer == peerA)
        // Still usable while the refresh is in flight.
        #expect(c.channel(for: peerA) == 0x4000)
        c.receive(s.success(ch[0]), now: at(541.01))
        #expect(c.channel(for: peerA) == 0x4000)
    }

    @Test func failedChannelBindLeavesNoPermissionBehind() {
        let (c, s) = allocated { $0.keepaliveInterval = nil }
        try! c.bindChannel(peer: peerA, now: at(1))
        c.receive(s.error(drain(c)[0], 403), now: at(1.01))
        #expect(trySend(c, [1], to: peerA, now: at(2)) == .noPermission)
        #expect(dropReason(c.receive(s.dataIndication(from: peerA, [1]), now: at(2))) == .noPermission)
        #expect(c.nextDeadline == at(540.02))  // only the allocation refresh is left
    }

    @Test func channelBindFailureFallsBackToSendIndications() {
        let (c, s) = allocated()
        permit(c, s, peerA, now: at(1))
        try! c.bindChannel(peer: peerA, now: at(2))
        c.receive(s.error(drain(c)[0], 400), now: at(2.01))
        #expect(drainEvents(c).contains { if case .channelBindFailed(let p, .errorCode(400)) = $0 { p == peerA } else { false } })
        #expect(trySend(c, [1], to: peerA, now: at(3)) == nil)
        #expect(drain(c)[0].method == .send)
    }

    @Test func dataIndicationIsUnwrappedAsAView() {
        let (c, s) = allocated()
        permit(c, s, peerA, now: at(1))
        let packet = s.dataIndication(from: peerA, [0xDE, 0xAD, 0xBE, 0xEF])
        packet.withUnsafeBytes { raw in
            let input = c.handle(packet: raw, from: serverAddress, now: at(2))
            guard case .data(let from, let bytes) = input else {
                Issue.record("expected data, got \(input)")
                return
            }
            #expect(from == peerA)
            #expect(Array(bytes) == [0xDE, 0xAD, 0xBE, 0xEF])
            // A view into the packet, not a copy.
            #expect(bytes.baseAddress! >= raw.baseAddress! && bytes.baseAddress! < raw.baseAddress! + raw.count)
        }
        #expect(c.counters.dataIndicationsReceived == 1)
        // RFC 8656 §11.6: a peer without a permission is dropped.
        #expect(dropReason(c.receive(s.dataIndication(from: peerB, [1]), now: at(3))) == .noPermission)
        #expect(c.counters.noPermission == 1)
    }

    @Test func channelDataIsUnwrapped() {
        let (c, s) = allocated()
        try! c.bindChannel(peer: peerA, now: at(1))
        let bind = drain(c)[0]
        // The server may relay ChannelData before our client sees the ChannelBind response.
        let early: [UInt8] = [0x40, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0, 0]
        let input = c.receive(early, now: at(1.005))
        #expect(isData(input)?.0 == peerA && isData(input)?.1 == [0xAA, 0xBB])
        c.receive(s.success(bind), now: at(1.01))
        let frame: [UInt8] = [0x40, 0x00, 0x00, 0x03, 1, 2, 3]
        frame.withUnsafeBytes { raw in
            if case .data(let from, let bytes) = c.handle(packet: raw, from: serverAddress, now: at(2)) {
                #expect(from == peerA && Array(bytes) == [1, 2, 3])
                #expect(bytes.baseAddress! == raw.baseAddress! + 4)
            } else {
                Issue.record("ChannelData not unwrapped")
            }
        }
        #expect(dropReason(c.receive([0x40, 0x01, 0x00, 0x01, 9], now: at(2))) == .unboundChannel)
        #expect(dropReason(c.receive([0x40, 0x00, 0x00, 0x09, 1], now: at(2))) == .malformed)  // length beyond data
        #expect(dropReason(c.receive([0x50, 0x00, 0x00, 0x00], now: at(2))) == .malformed)  // reserved range
        #expect(c.counters.channelDataReceived == 2)
    }

    @Test func badIntegrityResponsesAreDroppedAndCounted() {
        let c = makeClient()
        let s = FakeServer()
        try! c.start(now: at(0))
        c.receive(s.challenge(drain(c)[0]), now: at(0.01))
        let b = drain(c)[0]
        let wrongKey = IntegrityKey.longTerm(username: "alice", realm: "example.org", password: "guess")
        #expect(dropReason(c.receive(s.allocateSuccess(b, sign: wrongKey), now: at(0.02))) == .unauthenticated)
        // Unsigned success to an authenticated request: dropped too.
        let unsigned = s.respond(to: b, .successResponse, sign: nil) { b in
            try b.append(.xorRelayedAddress, xorAddress: relayedAddress)
        }
        #expect(dropReason(c.receive(unsigned, now: at(0.02))) == .unauthenticated)
        // Unsigned error other than 401/438: dropped (RFC 8489 §9.2.5), so a forged 441 cannot kill us.
        #expect(dropReason(c.receive(s.error(b, 441, signed: false), now: at(0.02))) == .unauthenticated)
        #expect(c.counters.unauthenticated == 3)
        #expect(c.state == .allocating)
        // A tampered byte after signing breaks the MAC.
        var tampered = s.allocateSuccess(b)
        tampered[tampered.count - 20] ^= 0xFF  // inside MESSAGE-INTEGRITY... FINGERPRINT now bad too
        #expect(dropReason(c.receive(tampered, now: at(0.02))) != nil)
        // The genuine response still completes the transaction (it stayed open).
        #expect(c.receive(s.allocateSuccess(b), now: at(0.03)).isHandled)
        #expect(c.state == .allocated)
    }

    @Test func malformedAndForeignPacketsNeverCrash() {
        let (c, s) = allocated()
        #expect(dropReason(c.receive([], now: at(1))) == .malformed)
        #expect(dropReason(c.receive([0x00, 0x01, 0x00], now: at(1))) == .malformed)
        #expect(dropReason(c.receive([0x80, 0, 0, 0], now: at(1))) == .malformed)
        #expect(dropReason(c.receive([UInt8](repeating: 0xFF, count: 40), now: at(1))) == .malformed)
        var truncated = s.dataIndication(from: peerA, [1, 2, 3])
        truncated.removeLast(4)
        #expect(dropReason(c.receive(truncated, now: at(1))) == .malformed)
        // A response nobody asked for.
        var fake = Request(s.dataIndication(from: peerA, [1]), to: serverAddress)
        fake.id = TransactionID(high: 1, low: 2)
        fake.type = MessageType(.refresh, .request)
        #expect(dropReason(c.receive(s.success(fake), now: at(1))) == .unknownTransaction)
        // From someone other than the server.
        #expect(c.receive(s.dataIndication(from: peerA, [1]), from: peerA, now: at(1)).isNotFromServer)
        // A Data indication without DATA.
        let noData = s.respond(to: fake, .indication, sign: nil) { b in try b.append(.xorPeerAddress, xorAddress: peerA) }
        #expect(dropReason(c.receive(noData, now: at(1))) != nil)
        #expect(c.state == .allocated)
        #expect(c.counters.malformed >= 5)
    }

    @Test func typedErrorsForMisuse() {
        let c = makeClient()
        #expect(throws: TURNError.notAllocated) { try c.createPermission(peer: peerA, now: at(0)) }
        #expect(throws: TURNError.notAllocated) { try c.bindChannel(peer: peerA, now: at(0)) }
        let (a, _) = allocated()
        let v6 = TransportAddress(.v6(0x2001_0db8_0000_0000, 1), 5000)
        #expect(throws: TURNError.peerAddressFamilyMismatch) { try a.createPermission(peer: v6, now: at(1)) }
        #expect(trySend(a, [0, 0, 0], to: peerB, now: at(1)) == .noPermission)
    }

    @Test func fullTablesAreTypedErrors() {
        let (c, s) = allocated { $0.capacities.permissions = 2; $0.capacities.channels = 1 }
        permit(c, s, peerA, now: at(1))
        permit(c, s, peerB, now: at(1))
        #expect(throws: TURNError.tableFull(.permissions)) {
            try c.createPermission(peer: TransportAddress(.v4(0x0A00_0001), 1), now: at(1))
        }
        try! c.bindChannel(peer: peerA, now: at(2))
        #expect(throws: TURNError.tableFull(.channels)) { try c.bindChannel(peer: peerB, now: at(2)) }
        #expect(c.counters.tableFull == 2)
    }

    @Test func oversizedPayloadIsATypedError() {
        let (c, s) = allocated { $0.capacities.transmitSlotSize = 256 }
        permit(c, s, peerA, now: at(1))
        #expect(trySend(c, [UInt8](repeating: 0, count: 300), to: peerA, now: at(2)) == .payloadTooLarge)
    }

    @Test func fullTransmitRingIsATypedError() {
        let (c, s) = allocated { $0.capacities.transmitQueue = 2 }
        permit(c, s, peerA, now: at(1))
        let one: [UInt8] = [1]
        #expect(trySend(c, one, to: peerA, now: at(2)) == nil)
        #expect(trySend(c, one, to: peerA, now: at(2)) == nil)
        #expect(trySend(c, one, to: peerA, now: at(2)) == .tableFull(.transmitQueue))
        #expect(c.counters.transmitDropped == 1)
    }
}
