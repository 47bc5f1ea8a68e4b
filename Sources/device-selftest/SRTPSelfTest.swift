import Common
import SRTP

// SRTP on the device: the libsrtp2 linked into the binary (mbedTLS-backed there) must produce
// the known packets, open them, and refuse a tampered or replayed one.

/// Runs one of SRTPSession's in-place calls on a copy of `packet` with `room` bytes spare;
/// returns the bytes it left, or the error.
private func srtpRun(_ packet: [UInt8], room: Int = 32,
                     _ call: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int) -> Result<[UInt8], SRTPError> {
    var buffer = packet + [UInt8](repeating: 0, count: room)
    let r: Result<Int, SRTPError> = buffer.withUnsafeMutableBytes { raw in
        do throws(SRTPError) { return .success(try call(raw, packet.count)) } catch { return .failure(error) }
    }
    return r.map { Array(buffer[0..<$0]) }
}

/// RFC 5764 §4.2 material with `key` and `salt` as the client's write key and salt.
private func srtpClientMaterial(_ key: [UInt8], _ salt: [UInt8]) -> [UInt8] {
    key + [UInt8](repeating: 0x5A, count: key.count) + salt + [UInt8](repeating: 0xA5, count: salt.count)
}

private func srtpSession(_ profile: SRTPProfile, _ material: [UInt8], client: Bool) -> SRTPSession? {
    material.withUnsafeBytes { raw in
        try? SRTPSession(profile: profile, keyingMaterial: raw, localIsClient: client)
    }
}

/// libsrtp's validation packets (test/srtp_driver.c srtp_validate, srtp_validate_gcm): SSRC
/// 0xCAFEBABE, sequence 0x1234, 16 bytes of 0xAB; the AES-CM master key and salt are RFC 3711
/// Appendix B.3's.
private func srtpKnownAnswer(_ profile: SRTPProfile, key: [UInt8], salt: [UInt8], srtp: [UInt8],
                             _ what: StaticString) {
    let plain: [UInt8] = [0x80, 0x0F, 0x12, 0x34, 0xDE, 0xCA, 0xFB, 0xAD, 0xCA, 0xFE, 0xBA, 0xBE]
        + [UInt8](repeating: 0xAB, count: 16)
    let material = srtpClientMaterial(key, salt)
    guard let writer = srtpSession(profile, material, client: true),
          let reader = srtpSession(profile, material, client: false)
    else { return check(false, what) }
    check((try? srtpRun(plain) { p, n throws(SRTPError) in try writer.protectRTP(p, length: n) }.get()) == srtp, what)
    check((try? srtpRun(srtp) { p, n throws(SRTPError) in try reader.unprotectRTP(p, length: n) }.get()) == plain, what)
}

func srtpSelfTest() {
    srtpKnownAnswer(
        .aes128CmHmacSha1_80,
        key: [0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39],
        salt: [0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE, 0xEB, 0xB6, 0x96, 0x0B, 0x3A, 0xAB, 0xE6],
        srtp: [0x80, 0x0F, 0x12, 0x34, 0xDE, 0xCA, 0xFB, 0xAD, 0xCA, 0xFE, 0xBA, 0xBE, 0x4E, 0x55, 0xDC, 0x4C,
               0xE7, 0x99, 0x78, 0xD8, 0x8C, 0xA4, 0xD2, 0x15, 0x94, 0x9D, 0x24, 0x02, 0xB7, 0x8D, 0x6A, 0xCC,
               0x99, 0xEA, 0x17, 0x9B, 0x8D, 0xBB],
        "SRTP AES128_CM_HMAC_SHA1_80 known packet")
    srtpKnownAnswer(
        .aeadAes128Gcm,
        key: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F],
        salt: [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB],
        srtp: [0x80, 0x0F, 0x12, 0x34, 0xDE, 0xCA, 0xFB, 0xAD, 0xCA, 0xFE, 0xBA, 0xBE, 0xC5, 0x00, 0x2E, 0xDE,
               0x04, 0xCF, 0xDD, 0x2E, 0xB9, 0x11, 0x59, 0xE0, 0x88, 0x0A, 0xA0, 0x6E, 0xD2, 0x97, 0x68, 0x26,
               0xF7, 0x96, 0xB2, 0x01, 0xDF, 0x31, 0x31, 0xA1, 0x27, 0xE8, 0xA3, 0x92],
        "SRTP AEAD_AES_128_GCM known packet")

    // Both profiles, both directions, RTP and RTCP; a flipped bit and a replay are refused.
    for profile in SRTPProfile.allCases {
        let material = (0..<profile.keyingMaterialLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        guard let client = srtpSession(profile, material, client: true),
              let server = srtpSession(profile, material, client: false)
        else { check(false, "SRTP sessions"); continue }
        var rtp: [UInt8] = [0x80, 96, 0, 1, 0, 0, 0, 0, 0x0D, 0xB1, 0, 1]
        rtp += (0..<200).map { UInt8(truncatingIfNeeded: $0) }
        let rtcp: [UInt8] = [0x81, 201, 0, 7, 0x0D, 0xB1, 0, 1] + [UInt8](repeating: 0x11, count: 24)
        for (from, to) in [(client, server), (server, client)] {
            let sealed = srtpRun(rtp) { p, n throws(SRTPError) in try from.protectRTP(p, length: n) }
            guard case .success(let s) = sealed, s.count == rtp.count + profile.rtpOverhead else {
                check(false, "SRTP protect"); continue
            }
            var forged = s
            forged[forged.count / 2] ^= 0x01
            check(srtpRun(forged) { p, n throws(SRTPError) in try to.unprotectRTP(p, length: n) } == .failure(.authenticationFailed),
                  "SRTP flipped bit refused")
            check((try? srtpRun(s) { p, n throws(SRTPError) in try to.unprotectRTP(p, length: n) }.get()) == rtp, "SRTP round trip")
            check(srtpRun(s) { p, n throws(SRTPError) in try to.unprotectRTP(p, length: n) } == .failure(.replayed), "SRTP replay refused")
            let sealedRTCP = srtpRun(rtcp) { p, n throws(SRTPError) in try from.protectRTCP(p, length: n) }
            check((try? sealedRTCP.flatMap { s in srtpRun(s) { p, n throws(SRTPError) in try to.unprotectRTCP(p, length: n) } }.get()) == rtcp,
                  "SRTCP round trip")
        }
        check(client.counters.authenticationFailures == 1 && client.counters.replays == 1, "SRTP counters")
    }
}
