import Common
import SRTP
import Testing

@Suite struct SRTPSessionTests {
    static let profiles = SRTPProfile.allCases

    @Test(arguments: profiles)
    func roundTripsBothWaysForRTPAndRTCP(_ profile: SRTPProfile) throws {
        let pair = try SessionPair(profile)
        for (from, to) in [(pair.client, pair.server), (pair.server, pair.client)] {
            for seq: UInt16 in 1...20 {
                let rtp = rtpPacket(seq: seq, payload: Int(seq) * 37)
                let srtp = try protect(from, .rtp, rtp)
                #expect(srtp.count == rtp.count + profile.rtpOverhead)
                #expect(srtp[12...] != rtp[12...] || rtp.count == 12, "payload encrypted")
                #expect(try unprotect(to, .rtp, srtp) == rtp)
                let rtcp = rtcpPacket(lost: UInt8(seq))
                let srtcp = try protect(from, .rtcp, rtcp)
                #expect(srtcp.count == rtcp.count + profile.rtcpOverhead)
                #expect(try unprotect(to, .rtcp, srtcp) == rtcp)
            }
        }
        for s in [pair.client, pair.server] {
            #expect(s.counters.protected == 40 && s.counters.unprotected == 40)
            #expect(s.counters.authenticationFailures == 0 && s.counters.replays == 0 && s.counters.otherDrops == 0)
        }
    }

    /// A header with CSRCs stays in the clear and authenticated (RFC 3711 §3.1).
    @Test(arguments: profiles)
    func roundTripsCSRCsAndAnEmptyPayload(_ profile: SRTPProfile) throws {
        let pair = try SessionPair(profile)
        for (seq, rtp) in [rtpPacket(seq: 1, csrc: 3), rtpPacket(seq: 2, payload: 0)].enumerated() {
            let srtp = try protect(pair.client, .rtp, rtp)
            #expect(srtp[0..<(12 + 4 * Int(rtp[0] & 0x0F))] == rtp[0..<(12 + 4 * Int(rtp[0] & 0x0F))], "\(seq)")
            #expect(try unprotect(pair.server, .rtp, srtp) == rtp)
        }
    }

    /// RFC 3711 §3.3 step 5, RFC 7714 §9.3: any change to the packet fails authentication,
    /// is counted, and leaves the session as it was.
    @Test(arguments: profiles, [Kind.rtp, .rtcp])
    func aFlippedBitAnywhereFailsAuthentication(_ profile: SRTPProfile, _ kind: Kind) throws {
        let pair = try SessionPair(profile)
        let plain = kind == .rtp ? rtpPacket(seq: 7, payload: 40) : rtcpPacket()
        let sealed = try protect(pair.client, kind, plain)
        var attempts = 0
        for i in sealed.indices {
            for bit: UInt8 in [0x01, 0x40, 0x80] {
                // The version bits are told apart before authentication.
                if i == 0 && bit != 0x01 { continue }
                var forged = sealed
                forged[i] ^= bit
                attempts += 1
                #expect(throws: SRTPError.authenticationFailed, "byte \(i) bit \(bit)") {
                    try unprotect(pair.server, kind, forged)
                }
            }
        }
        #expect(pair.server.counters.authenticationFailures == attempts)
        #expect(pair.server.counters.unprotected == 0)
        #expect(pair.server.inboundStreamCount == 0, "a forgery creates no stream")
        #expect(try unprotect(pair.server, kind, sealed) == plain)
    }

    @Test(arguments: profiles, [Kind.rtp, .rtcp])
    func theSamePacketTwiceIsAReplay(_ profile: SRTPProfile, _ kind: Kind) throws {
        let pair = try SessionPair(profile)
        let sealed = try protect(pair.client, kind, kind == .rtp ? rtpPacket(seq: 100) : rtcpPacket())
        _ = try unprotect(pair.server, kind, sealed)
        #expect(throws: SRTPError.replayed) { try unprotect(pair.server, kind, sealed) }
        #expect(pair.server.counters.replays == 1)
        #expect(pair.server.counters.unprotected == 1)
    }

    /// RFC 3711 §3.3.2: an index behind the window is dropped though never seen; one inside
    /// it but not yet seen is accepted.
    @Test(arguments: profiles)
    func aPacketBehindTheWindowIsAReplay(_ profile: SRTPProfile) throws {
        let pair = try SessionPair(profile, replayWindow: 64)
        let sealed = try [1, 2, 60, 1000].map { (seq: UInt16) throws(SRTPError) in try protect(pair.client, .rtp, rtpPacket(seq: seq)) }
        _ = try unprotect(pair.server, .rtp, sealed[0])
        _ = try unprotect(pair.server, .rtp, sealed[3])
        #expect(throws: SRTPError.replayed) { try unprotect(pair.server, .rtp, sealed[1]) }
        #expect(throws: SRTPError.replayed) { try unprotect(pair.server, .rtp, sealed[2]) }
        #expect(pair.server.counters.replays == 2)

        let wide = try SessionPair(profile, replayWindow: 1024)
        let again = try [1, 1000, 2].map { (seq: UInt16) throws(SRTPError) in try protect(wide.client, .rtp, rtpPacket(seq: seq)) }
        for p in again { _ = try unprotect(wide.server, .rtp, p) }
        #expect(wide.server.counters.unprotected == 3)
    }

    /// A retransmission protects the same sequence number again (libsrtp's allow_repeat_tx).
    @Test(arguments: profiles)
    func aRetransmissionCanBeProtectedAgain(_ profile: SRTPProfile) throws {
        let pair = try SessionPair(profile)
        let first = try protect(pair.client, .rtp, rtpPacket(seq: 5))
        let again = try protect(pair.client, .rtp, rtpPacket(seq: 5))
        #expect(first == again)
    }

    @Test(arguments: profiles)
    func garbageIsATypedError(_ profile: SRTPProfile) throws {
        let pair = try SessionPair(profile)
        let cases: [(Kind, [UInt8])] = [
            (.rtp, []), (.rtp, [0x80]), (.rtp, Array(rtpPacket(seq: 1, payload: 0)[0..<11])),
            (.rtp, [UInt8](repeating: 0, count: 64)),  // version 0
            (.rtp, [0x8F] + [UInt8](repeating: 0, count: 40)),  // 15 CSRCs in 41 bytes
            (.rtp, [0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 30)),
            (.rtp, rtpPacket(seq: 1, payload: 0)),  // no room for a tag
            (.rtcp, []), (.rtcp, [0x81, 201, 0, 1]), (.rtcp, rtcpPacket()[0..<8] + [0, 0, 0]),
            (.rtcp, [UInt8](repeating: 0x00, count: 60)),
        ]
        for (i, (kind, bytes)) in cases.enumerated() {
            #expect(throws: SRTPError.malformed, "case \(i)") { try unprotect(pair.server, kind, bytes) }
        }
        #expect(pair.server.counters.otherDrops == cases.count)
        // Version 2 and the right shape, but not from the peer.
        let noise = [0x80, 96, 0, 9, 0, 0, 0, 0, 1, 2, 3, 4] + (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        #expect(throws: SRTPError.authenticationFailed) { try unprotect(pair.server, .rtp, noise) }
        #expect(throws: SRTPError.authenticationFailed) { try unprotect(pair.server, .rtcp, [0x81] + noise[1...]) }
        // What we are asked to send must be RTP or RTCP too.
        #expect(throws: SRTPError.malformed) { try protect(pair.client, .rtp, [0x80, 0, 0]) }
        #expect(throws: SRTPError.malformed) { try protect(pair.client, .rtp, [UInt8](repeating: 0, count: 40)) }
        #expect(throws: SRTPError.malformed) { try protect(pair.client, .rtcp, [0x81, 0xC8, 0, 0]) }
        #expect(pair.client.counters.protected == 0)
    }

    @Test(arguments: profiles, [Kind.rtp, .rtcp])
    func noRoomForTheTag(_ profile: SRTPProfile, _ kind: Kind) throws {
        let pair = try SessionPair(profile)
        let plain = kind == .rtp ? rtpPacket(seq: 1) : rtcpPacket()
        let overhead = kind == .rtp ? profile.rtpOverhead : profile.rtcpOverhead
        for capacity in [plain.count, plain.count + overhead - 1] {
            #expect(throws: SRTPError.noRoom) { try protect(pair.client, kind, plain, capacity: capacity) }
        }
        let sealed = try protect(pair.client, kind, plain, capacity: plain.count + overhead)
        #expect(try unprotect(pair.server, kind, sealed) == plain)
        #expect(pair.client.counters.otherDrops == 2)
    }

    @Test func anUnalignedBufferIsRefused() throws {
        let pair = try SessionPair(.aeadAes128Gcm)
        var buffer = [UInt8](repeating: 0, count: 300)
        let rtp = rtpPacket(seq: 1)
        buffer.replaceSubrange(1..<(1 + rtp.count), with: rtp)
        buffer.withUnsafeMutableBytes { raw in
            let shifted = UnsafeMutableRawBufferPointer(rebasing: raw[1...])
            #expect(throws: SRTPError.unalignedBuffer) { try pair.client.protectRTP(shifted, length: rtp.count) }
        }
    }

    /// libsrtp keeps a stream per SSRC for the session's life: at most 32 per direction, and
    /// only packets that authenticate take a slot.
    @Test(arguments: profiles)
    func streamsAreBoundedPerDirection(_ profile: SRTPProfile) throws {
        let max = SRTPSession.maxStreamsPerDirection
        let pair = try SessionPair(profile)
        var sealed: [[UInt8]] = []
        for i in 0..<max {
            sealed.append(try protect(pair.client, .rtp, rtpPacket(seq: 1, ssrc: 0x1000 + UInt32(i))))
        }
        #expect(throws: SRTPError.tooManyStreams) { try protect(pair.client, .rtp, rtpPacket(seq: 1, ssrc: 0x9999)) }
        #expect(throws: SRTPError.tooManyStreams) { try protect(pair.client, .rtcp, rtcpPacket(ssrc: 0x9999)) }
        #expect(pair.client.outboundStreamCount == max)
        // Known SSRCs go on, RTP and RTCP alike.
        _ = try protect(pair.client, .rtp, rtpPacket(seq: 2, ssrc: 0x1000))
        _ = try protect(pair.client, .rtcp, rtcpPacket(ssrc: 0x1001))

        // Forgeries under new SSRCs take no slot.
        for i in 0..<100 {
            var forged = try protect(pair.client, .rtp, rtpPacket(seq: 3, ssrc: 0x1000))
            forged[8...11] = [0xEE, 0, 0, UInt8(i)]
            #expect(throws: SRTPError.authenticationFailed) { try unprotect(pair.server, .rtp, forged) }
        }
        #expect(pair.server.inboundStreamCount == 0)
        for p in sealed { _ = try unprotect(pair.server, .rtp, p) }
        #expect(pair.server.inboundStreamCount == max)
        // A second sender with the same keys and a 33rd SSRC.
        let other = try session(profile, testMaterial(profile), localIsClient: true)
        let extra = try protect(other, .rtp, rtpPacket(seq: 1, ssrc: 0x2000))
        #expect(throws: SRTPError.tooManyStreams) { try unprotect(pair.server, .rtp, extra) }
        #expect(pair.server.inboundStreamCount == max)
        #expect(pair.server.counters.otherDrops == 1)
        _ = try unprotect(pair.server, .rtp, try protect(pair.client, .rtp, rtpPacket(seq: 9, ssrc: 0x1005)))
    }

    @Test func keyingMaterialOfTheWrongLengthIsRefused() {
        for profile in SRTPProfile.allCases {
            for delta in [-1, 1, -profile.keyingMaterialLength] {
                let m = [UInt8](repeating: 7, count: profile.keyingMaterialLength + delta)
                #expect(throws: SRTPError.badKeyingMaterial) { try session(profile, m, localIsClient: true) }
            }
        }
        let aesLength = testMaterial(.aes128CmHmacSha1_80)
        #expect(throws: SRTPError.badKeyingMaterial) { try session(.aeadAes128Gcm, aesLength, localIsClient: false) }
    }

    @Test func theReplayWindowIsBounded() throws {
        let m = testMaterial(.aes128CmHmacSha1_80)
        for window in [0, 63, 0x8000] {
            #expect(throws: SRTPError.badReplayWindow) { try session(.aes128CmHmacSha1_80, m, localIsClient: true, replayWindow: window) }
        }
        _ = try session(.aes128CmHmacSha1_80, m, localIsClient: true, replayWindow: 64)
        _ = try session(.aes128CmHmacSha1_80, m, localIsClient: true, replayWindow: 0x7FFF)
    }

    /// Sessions with different keys do not open each other's packets.
    @Test(arguments: profiles)
    func anotherKeyFailsAuthentication(_ profile: SRTPProfile) throws {
        let a = try session(profile, testMaterial(profile, seed: 1), localIsClient: true)
        let b = try session(profile, testMaterial(profile, seed: 2), localIsClient: false)
        let sealed = try protect(a, .rtp, rtpPacket(seq: 1))
        #expect(throws: SRTPError.authenticationFailed) { try unprotect(b, .rtp, sealed) }
    }

}
