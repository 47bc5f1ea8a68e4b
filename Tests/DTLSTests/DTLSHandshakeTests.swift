import Common
import Testing
@testable import DTLS

@Suite struct DTLSHandshakeTests {
    @Test func inMemoryHandshakeDerivesTheSameKeys() throws {
        let pair = try DTLSPair()
        pair.start()
        pair.run()
        #expect(pair.client.state == .connected)
        #expect(pair.server.state == .connected)
        let c = try #require(pair.clientKeys)
        let s = try #require(pair.serverKeys)
        #expect(c.profile == .aes128CmHmacSha1_80)
        #expect(c.profile == s.profile)
        #expect(c.bytes.count == SRTPProfile.aes128CmHmacSha1_80.keyingMaterialLength)
        #expect(c.bytes == s.bytes)
        #expect(c.bytes != [UInt8](repeating: 0, count: c.bytes.count))
        #expect(c.localIsClient && !s.localIsClient)
        #expect(c.localKey == s.remoteKey && c.localSalt == s.remoteSalt)
        #expect(c.localKey != c.remoteKey)
        // Nothing waits on time once connected.
        #expect(pair.client.nextDeadline == nil && pair.server.nextDeadline == nil)
        // Every datagram sent is DTLS (RFC 7983: first byte 20-63) within the MTU.
        for d in pair.clientSent + pair.serverSent {
            #expect((20...63).contains(d[0]))
            #expect(d.count <= 1200)
        }
    }

    @Test func differentSessionsExportDifferentKeys() throws {
        let a = try DTLSPair(seed: 1)
        a.start(); a.run()
        let b = try DTLSPair(seed: 2)
        b.start(); b.run()
        let ka = try #require(a.clientKeys)
        let kb = try #require(b.clientKeys)
        #expect(ka.bytes != kb.bytes)
    }

    @Test func serverOfferingOneProfileIsWhatTheClientGets() throws {
        let pair = try DTLSPair(clientProfiles: [.aeadAes128Gcm, .aes128CmHmacSha1_80],
                                serverProfiles: [.aes128CmHmacSha1_80])
        pair.start()
        pair.run()
        #expect(pair.clientKeys?.profile == .aes128CmHmacSha1_80)
        #expect(pair.serverKeys?.profile == .aes128CmHmacSha1_80)
    }

    @Test func noProfileToNegotiateIsRefusedUpFront() throws {
        var random = SeededRandom(seed: 5)
        let identity = try DTLSIdentity.generate(random: &random)
        #expect(throws: DTLSError.unsupportedProfiles) {
            _ = try DTLSEndpoint(role: .server, identity: identity,
                                 remoteFingerprint: identity.fingerprint,
                                 profiles: [], random: &random)
        }
    }

    @Test func lostFirstFlightIsRetransmittedOnTimeout() throws {
        let pair = try DTLSPair()
        // The ClientHello is lost once.
        pair.deliverClientToServer = { i, _ in i != 0 }
        let start = pair.now
        pair.start()
        #expect(pair.client.nextDeadline == start + .seconds(1))
        #expect(pair.server.nextDeadline == nil)
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        // The ClientHello went twice: the original and the retransmission a second later.
        // Same handshake message; only the record sequence number (bytes 5-10) moved on.
        #expect(pair.clientSent.count >= 2 && pair.clientSent[0][13...] == pair.clientSent[1][13...])
        #expect(pair.clientSent.count >= 2 && pair.clientSent[0][10] != pair.clientSent[1][10])
        #expect(pair.now == start + .seconds(1))
        #expect(pair.clientKeys == pair.serverKeys.map { DTLSKeyingMaterial(profile: $0.profile, bytes: $0.bytes, localIsClient: true) })
    }

    @Test func lostServerFlightsAreRecovered() throws {
        let pair = try DTLSPair()
        // The server's first flight and its Finished flight are each lost once.
        var dropped = 0
        pair.deliverServerToClient = { i, _ in
            if i == 0 || (i > 0 && dropped == 1 && pair.server.state == .connected) {
                dropped += 1
                return false
            }
            return true
        }
        pair.start()
        pair.run()
        #expect(dropped == 2)
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.clientKeys?.bytes == pair.serverKeys?.bytes)
    }

    @Test func silentPeerTimesOut() throws {
        let pair = try DTLSPair()
        pair.deliverClientToServer = { _, _ in false }
        pair.start()
        pair.run(limit: .seconds(600))
        #expect(pair.client.state == .failed(.timeout))
        #expect(pair.clientEvents == [.failed(.timeout)])
        #expect(pair.client.nextDeadline == nil)
        // 1, 2, 4, ... 32 s then the 60 s cap: the first send and six retransmissions.
        #expect(pair.clientSent.count == 7)
    }

    @Test func smallMTUFragmentsTheHandshake() throws {
        let pair = try DTLSPair(mtu: 300)
        pair.start()
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.clientKeys?.bytes == pair.serverKeys?.bytes)
        for d in pair.clientSent + pair.serverSent { #expect(d.count <= 300) }
        // The server's certificate flight cannot fit one 300-byte datagram.
        #expect(pair.serverSent.count >= 3)
    }

    @Test func fragmentedClientHelloIsReassembled() throws {
        // A browser's ClientHello (about 1,400 bytes with DTLS 1.3 key shares) comes as two
        // fragments in two datagrams (RFC 6347 §4.2.3); ours is split the same way here.
        let pair = try DTLSPair()
        pair.start()
        let hello = try #require(pair.client.pollTransmit())
        #expect(pair.client.pollTransmit() == nil)
        let fragments = DTLSRecords.fragmentHandshake(hello, at: 60)
        #expect(fragments.count == 2)
        for f in fragments { f.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) } }
        // The server answered the reassembled ClientHello with its flight.
        var answer: [[UInt8]] = []
        while let d = pair.server.pollTransmit() { answer.append(d) }
        #expect(!answer.isEmpty)
        #expect(answer.first?[0] == 22 && answer.first?[13] == 2)  // handshake: ServerHello
        for d in answer { d.withUnsafeBytes { pair.client.handle(datagram: $0, now: pair.now) } }
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.clientKeys?.bytes == pair.serverKeys?.bytes)
    }

    @Test func fragmentsInReverseOrderAreReassembled() throws {
        let pair = try DTLSPair()
        pair.start()
        let hello = try #require(pair.client.pollTransmit())
        for f in DTLSRecords.fragmentHandshake(hello, at: 40).reversed() {
            f.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) }
        }
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
    }

    @Test func retransmittedFragmentedClientHelloGetsTheFlightAgain() throws {
        // The server's first flight is lost; the browser retransmits its ClientHello, again
        // in fragments, and the server answers with its flight again (RFC 6347 §4.2.4).
        let pair = try DTLSPair()
        pair.start()
        let hello = try #require(pair.client.pollTransmit())
        for f in DTLSRecords.fragmentHandshake(hello, at: 50) { f.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) } }
        var lost = 0
        while pair.server.pollTransmit() != nil { lost += 1 }
        #expect(lost > 0)
        // The same fragments again at once (new record sequence numbers, as a retransmission
        // has): the joined ClientHello is one retransmission, answered by one copy of the
        // flight, not one per fragment.
        var repeated = hello
        repeated[10] &+= 5
        for f in DTLSRecords.fragmentHandshake(repeated, at: 50) { f.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) } }
        var answered = 0
        while pair.server.pollTransmit() != nil { answered += 1 }
        #expect(answered == lost)
        let deadline = try #require(pair.client.nextDeadline)
        pair.now = deadline
        pair.client.handleTimeout(now: pair.now)
        let again = try #require(pair.client.pollTransmit())
        for f in DTLSRecords.fragmentHandshake(again, at: 70) { f.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) } }
        var resent: [[UInt8]] = []
        while let d = pair.server.pollTransmit() { resent.append(d) }
        // The server's own timer ran out at the same instant: its flight may go twice.
        #expect(resent.count == lost || resent.count == 2 * lost)
        #expect(resent.first?[13] == 2)  // ServerHello
        for d in resent { d.withUnsafeBytes { pair.client.handle(datagram: $0, now: pair.now) } }
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.clientKeys?.bytes == pair.serverKeys?.bytes)
    }

    @Test func closeNotifyReachesThePeer() throws {
        let pair = try DTLSPair()
        pair.start()
        pair.run()
        pair.client.close(now: pair.now)
        #expect(pair.client.state == .closed)
        pair.pump()
        #expect(pair.server.state == .closed)
        #expect(pair.serverEvents.last == .closed)
        #expect(pair.clientEvents.last != .closed)
    }
}
