import Common
import SRTP
import Testing

/// RFC 3711 Appendix B.3 and RFC 7714 §16.1.1 pin the reference transform; SRTPSession must
/// then produce what the reference does under the keys the RFC 3711 §4.3 KDF derives from its
/// master key (libsrtp cannot be handed session keys directly, so RFC 7714's vector cannot be
/// fed to SRTPSession as it stands).
@Suite struct SRTPReferenceTests {
    static let b3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let b3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6")

    /// RFC 7714 §16.1: sequence number 0xf17b, SSRC 0x5501a0b2, "Gallia est omnis divisa in
    /// partes tres".
    static let rfc7714Plain = hex("""
        8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
        20646976 69736120 696e2070 61727465 73207472 6573
        """)
    static let rfc7714Key = hex("000102030405060708090a0b0c0d0e0f")
    static let rfc7714Salt = hex("517569642070726f2071756f")

    @Test func referenceKDFGivesRFC3711AppendixB3() {
        let keys = Reference.srtpKeys(masterKey: Self.b3MasterKey, masterSalt: Self.b3MasterSalt)
        #expect(keys.key == hex("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(keys.salt == hex("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(keys.auth == hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"))
    }

    @Test func referenceGCMGivesRFC7714Section16_1_1() {
        #expect(Reference.gcmIV(salt: Self.rfc7714Salt, rtp: Self.rfc7714Plain, roc: 0) == hex("51753c6580c2726f20718414"))
        #expect(Reference.protectGCM(Self.rfc7714Plain, key: Self.rfc7714Key, salt: Self.rfc7714Salt) == hex("""
            8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f
            42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce
            """))
    }

    /// The RFC 7714 key and salt used as master key and salt: SRTPSession's packet is the
    /// reference's under the derived session keys, both ways.
    @Test(arguments: [true, false])
    func gcmSessionMatchesTheReference(writerIsClient: Bool) throws {
        let derived = Reference.srtpKeys(masterKey: Self.rfc7714Key, masterSalt: Self.rfc7714Salt)
        let expected = Reference.protectGCM(Self.rfc7714Plain, key: derived.key, salt: derived.salt)
        let material = SRTPKnownAnswerTests.material(
            .init(profile: .aeadAes128Gcm, masterKey: Self.rfc7714Key, masterSalt: Self.rfc7714Salt,
                  rtp: [], srtp: [], rtcp: [], srtcp: []), asClient: writerIsClient)
        let writer = try session(.aeadAes128Gcm, material, localIsClient: writerIsClient)
        let reader = try session(.aeadAes128Gcm, material, localIsClient: !writerIsClient)
        #expect(try protect(writer, .rtp, Self.rfc7714Plain) == expected)
        #expect(try unprotect(reader, .rtp, expected) == Self.rfc7714Plain)
    }

    /// RFC 3711 Appendix B.3's master key and salt: SRTPSession's packet is the reference's
    /// under B.3's session keys.
    @Test func aesCMSessionMatchesTheReference() throws {
        let keys = Reference.srtpKeys(masterKey: Self.b3MasterKey, masterSalt: Self.b3MasterSalt)
        let expected = Reference.protectCM(Self.rfc7714Plain, keys: keys)
        let material = SRTPKnownAnswerTests.material(SRTPKnownAnswerTests.aesCM, asClient: true)
        let writer = try session(.aes128CmHmacSha1_80, material, localIsClient: true)
        let reader = try session(.aes128CmHmacSha1_80, material, localIsClient: false)
        #expect(try protect(writer, .rtp, Self.rfc7714Plain) == expected)
        #expect(try unprotect(reader, .rtp, expected) == Self.rfc7714Plain)
        // libsrtp's own vector agrees with the reference too.
        let v = SRTPKnownAnswerTests.aesCM
        #expect(Reference.protectCM(v.rtp, keys: keys) == v.srtp)
    }
}
