import Common
import Testing

@Suite struct SRTPProfileTests {
    // RFC 5764 §4.2 (AES-CM: 2 × (128-bit key + 112-bit salt)) and RFC 7714 §12 (GCM: 2 ×
    // (128-bit key + 96-bit salt)).
    @Test func keyingMaterialSplitsAsTheRFCsSay() {
        #expect(SRTPProfile.aes128CmHmacSha1_80.keyingMaterialLength == 60)
        #expect(SRTPProfile.aeadAes128Gcm.keyingMaterialLength == 56)
        #expect(SRTPProfile(id: 0x0001) == .aes128CmHmacSha1_80)
        #expect(SRTPProfile(id: 0x0007) == .aeadAes128Gcm)
        #expect(SRTPProfile(id: 0x0002) == nil)  // SRTP_AES128_CM_HMAC_SHA1_32: not offered
    }
}
