import Common
import SRTP
import Testing
@testable import DTLS

/// use_srtp between two endpoints (RFC 5764 §4.1.1) with both profiles the agent supports:
/// AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM (RFC 7714 §14.2), the second through
/// toolchain/mbedtls-srtp-gcm.patch.
@Suite struct SRTPProfileNegotiationTests {
    /// The host links scripts/install-deps' patched mbedTLS (Package.swift's CMbedTLS,
    /// pkg-config ice-agent-mbedtls), not Debian's libmbedtls-dev in /usr/lib, which refuses
    /// 0x0007.
    @Test func hostMbedTLSNegotiatesGCM() {
        #expect(DTLSEndpoint.negotiable(.aeadAes128Gcm),
                "the linked mbedTLS refuses SRTP_AEAD_AES_128_GCM: it is not the patched one; run scripts/install-deps (it installs /usr/local/lib/pkgconfig/ice-agent-mbedtls.pc)")
        #expect(DTLSEndpoint.negotiable(.aes128CmHmacSha1_80))
        #expect(DTLSEndpoint.defaultProfiles.allSatisfy { DTLSEndpoint.negotiable($0) })
    }

    private func negotiate(client: [SRTPProfile], server: [SRTPProfile]) throws -> (DTLSKeyingMaterial, DTLSKeyingMaterial) {
        let pair = try DTLSPair(clientProfiles: client, serverProfiles: server)
        pair.start()
        pair.run()
        #expect(pair.client.state == .connected)
        #expect(pair.server.state == .connected)
        return (try #require(pair.clientKeys), try #require(pair.serverKeys))
    }

    @Test func clientOfferingOnlyGCMGetsGCM() throws {
        let (c, s) = try negotiate(client: [.aeadAes128Gcm], server: DTLSEndpoint.defaultProfiles)
        #expect(c.profile == .aeadAes128Gcm && s.profile == .aeadAes128Gcm)
    }

    @Test func serverAcceptingOnlyGCMGivesGCM() throws {
        let (c, s) = try negotiate(client: DTLSEndpoint.defaultProfiles, server: [.aeadAes128Gcm])
        #expect(c.profile == .aeadAes128Gcm && s.profile == .aeadAes128Gcm)
    }

    /// Both offer both: the server's first is chosen whatever the client's order (upstream
    /// mbedTLS would take the client's first).
    @Test(arguments: [
        ([SRTPProfile.aeadAes128Gcm, .aes128CmHmacSha1_80], [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm], SRTPProfile.aes128CmHmacSha1_80),
        ([.aes128CmHmacSha1_80, .aeadAes128Gcm], [.aeadAes128Gcm, .aes128CmHmacSha1_80], .aeadAes128Gcm),
    ])
    func serverPreferenceDecides(client: [SRTPProfile], server: [SRTPProfile], expected: SRTPProfile) throws {
        let (c, s) = try negotiate(client: client, server: server)
        #expect(c.profile == expected && s.profile == expected)
    }

    /// The defaults on both sides give the profile measured cheaper per RTP packet.
    @Test func defaultsChooseTheCheaperProfile() throws {
        #expect(DTLSEndpoint.defaultProfiles == [.aes128CmHmacSha1_80, .aeadAes128Gcm])
        let (c, s) = try negotiate(client: DTLSEndpoint.defaultProfiles, server: DTLSEndpoint.defaultProfiles)
        #expect(c.profile == .aes128CmHmacSha1_80 && s.profile == .aes128CmHmacSha1_80)
    }

    /// RFC 5764 §4.2 with RFC 7714 §12's lengths: client key, server key (16 bytes each), client
    /// salt, server salt (12 bytes each), 56 bytes, where the CM profile has 60.
    @Test func gcmKeysHaveTheTwoKeysTwoSaltsLayout() throws {
        let (c, s) = try negotiate(client: [.aeadAes128Gcm], server: [.aeadAes128Gcm])
        #expect(c.bytes.count == 2 * (16 + 12))
        #expect(c.bytes == s.bytes)
        #expect(Array(c.localKey) == Array(c.bytes[0..<16]))
        #expect(Array(s.localKey) == Array(c.bytes[16..<32]))
        #expect(Array(c.localSalt) == Array(c.bytes[32..<44]))
        #expect(Array(s.localSalt) == Array(c.bytes[44..<56]))
        #expect(c.localKey != s.localKey && c.localSalt != s.localSalt)
    }

    /// SRTP and SRTCP protected by one end and unprotected by the other in both directions,
    /// each end keyed from its own DTLS keying material, with the profile negotiated.
    @Test(arguments: [SRTPProfile.aeadAes128Gcm, .aes128CmHmacSha1_80])
    func srtpRoundTripsWithTheNegotiatedKeys(profile: SRTPProfile) throws {
        let (c, s) = try negotiate(client: [profile], server: DTLSEndpoint.defaultProfiles)
        #expect(c.profile == profile)
        func session(_ k: DTLSKeyingMaterial) throws -> SRTPSession {
            try k.bytes.withUnsafeBytes { raw throws(SRTPError) in
                try SRTPSession(profile: k.profile, keyingMaterial: raw, localIsClient: k.localIsClient)
            }
        }
        let client = try session(c)
        let server = try session(s)
        for (sender, receiver) in [(client, server), (server, client)] {
            // RTP (RFC 3550 §5.1): version 2, PT 96, sequence 1, SSRC 0x0DB10001, 100 bytes.
            var rtp = [UInt8](repeating: 0, count: 100 + 64)
            rtp.replaceSubrange(0..<12, with: [0x80, 96, 0, 1, 0, 0, 0, 0, 0x0D, 0xB1, 0, 1])
            for i in 12..<100 { rtp[i] = UInt8(i) }
            let plain = Array(rtp[0..<100])
            let sealed = try rtp.withUnsafeMutableBytes { try sender.protectRTP($0, length: 100) }
            #expect(sealed == 100 + profile.rtpOverhead)
            #expect(Array(rtp[12..<100]) != Array(plain[12...]))
            let opened = try rtp.withUnsafeMutableBytes { try receiver.unprotectRTP($0, length: sealed) }
            #expect(opened == 100)
            #expect(Array(rtp[0..<100]) == plain)
            // RTCP receiver report, no blocks (RFC 3550 §6.4.2).
            var rtcp = [UInt8](repeating: 0, count: 8 + 64)
            rtcp.replaceSubrange(0..<8, with: [0x80, 201, 0, 1, 0x0D, 0xB1, 0, 2])
            let sealedRTCP = try rtcp.withUnsafeMutableBytes { try sender.protectRTCP($0, length: 8) }
            #expect(sealedRTCP == 8 + profile.rtcpOverhead)
            let openedRTCP = try rtcp.withUnsafeMutableBytes { try receiver.unprotectRTCP($0, length: sealedRTCP) }
            #expect(openedRTCP == 8)
            #expect(Array(rtcp[0..<8]) == [0x80, 201, 0, 1, 0x0D, 0xB1, 0, 2])
        }
    }
}
