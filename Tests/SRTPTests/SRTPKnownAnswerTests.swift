import Common
import SRTP
import Testing

/// Full-packet known answers through `SRTPSession`. RFC 7714 §16 states its vectors with the
/// session key and salt, which libsrtp cannot be keyed with (it always derives them from a
/// master key, RFC 3711 §4.3), so the packets here are libsrtp's own validation vectors
/// (test/srtp_driver.c, srtp_validate and srtp_validate_gcm). The AES-CM master key and salt
/// are RFC 3711 Appendix B.3's.
@Suite struct SRTPKnownAnswerTests {
    struct Vector: CustomStringConvertible {
        let profile: SRTPProfile
        let masterKey: [UInt8]
        let masterSalt: [UInt8]
        let rtp: [UInt8]
        let srtp: [UInt8]
        let rtcp: [UInt8]
        let srtcp: [UInt8]
        var description: String { profile.name.description }
    }

    static let rtpPlain = hex("800f1234 decafbad cafebabe abababab abababab abababab abababab")
    static let rtcpPlain = hex("81c8000b cafebabe abababab abababab abababab abababab")

    static let aesCM = Vector(
        profile: .aes128CmHmacSha1_80,
        masterKey: hex("e1f97a0d3e018be0d64fa32c06de4139"),
        masterSalt: hex("0ec675ad498afeebb6960b3aabe6"),
        rtp: rtpPlain,
        srtp: hex("""
            800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402
            b78d6acc 99ea179b 8dbb
            """),
        rtcp: rtcpPlain,
        srtcp: hex("""
            81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8
            80000001 993e08cd 54d6c123 0798
            """))

    static let gcm = Vector(
        profile: .aeadAes128Gcm,
        masterKey: hex("000102030405060708090a0b0c0d0e0f"),
        masterSalt: hex("a0a1a2a3a4a5a6a7a8a9aaab"),
        rtp: rtpPlain,
        srtp: hex("""
            800f1234 decafbad cafebabe c5002ede 04cfdd2e b91159e0 880aa06e
            d2976826 f796b201 df3131a1 27e8a392
            """),
        rtcp: rtcpPlain,
        srtcp: hex("""
            81c8000b cafebabe c98b8b5d f0392a55 852b6c21 ac8e7025
            c52c6fbe a2b3b446 ea31123b a88ce61e 80000001
            """))

    /// The vector's key and salt as one side's (`asClient`) write key and salt; the other
    /// side's are unrelated bytes, so the test also pins which half of the material each
    /// direction uses (RFC 5764 §4.2).
    static func material(_ v: Vector, asClient: Bool) -> [UInt8] {
        let otherKey = [UInt8](repeating: 0x5A, count: v.masterKey.count)
        let otherSalt = [UInt8](repeating: 0xA5, count: v.masterSalt.count)
        return asClient
            ? keyingMaterial(clientKey: v.masterKey, serverKey: otherKey, clientSalt: v.masterSalt, serverSalt: otherSalt)
            : keyingMaterial(clientKey: otherKey, serverKey: v.masterKey, clientSalt: otherSalt, serverSalt: v.masterSalt)
    }

    @Test(arguments: [aesCM, gcm], [true, false])
    func protectsToTheVector(_ v: Vector, writerIsClient: Bool) throws {
        let writer = try session(v.profile, Self.material(v, asClient: writerIsClient), localIsClient: writerIsClient)
        #expect(try protect(writer, .rtp, v.rtp) == v.srtp)
        #expect(try protect(writer, .rtcp, v.rtcp) == v.srtcp)
        #expect(writer.counters.protected == 2)
    }

    @Test(arguments: [aesCM, gcm], [true, false])
    func unprotectsTheVector(_ v: Vector, writerIsClient: Bool) throws {
        let reader = try session(v.profile, Self.material(v, asClient: writerIsClient), localIsClient: !writerIsClient)
        #expect(try unprotect(reader, .rtp, v.srtp) == v.rtp)
        #expect(try unprotect(reader, .rtcp, v.srtcp) == v.rtcp)
        #expect(reader.counters.unprotected == 2)
        #expect(reader.inboundStreamCount == 1)
    }

    /// The writer's own key does not open what it wrote: each direction has its own key.
    @Test(arguments: [aesCM, gcm])
    func theWritersInboundKeyIsThePeers(_ v: Vector) throws {
        let writer = try session(v.profile, Self.material(v, asClient: true), localIsClient: true)
        #expect(throws: SRTPError.authenticationFailed) { try unprotect(writer, .rtp, v.srtp) }
    }
}
