import Common
import Testing

@Suite struct FirstByteClassTests {
    @Test func rangesFollowRFC7983() {
        // Every boundary of RFC 7983 §7 (and the gaps between ranges, which are unknown).
        let expected: [(UInt8, FirstByteClass)] = [
            (0, .stun), (3, .stun), (4, .unknown), (15, .unknown), (16, .zrtp), (19, .zrtp), (20, .dtls), (63, .dtls),
            (64, .turnChannel), (79, .turnChannel), (80, .unknown), (127, .unknown), (128, .rtpOrRTCP), (191, .rtpOrRTCP),
            (192, .unknown), (255, .unknown),
        ]
        for (byte, kind) in expected { #expect(FirstByteClass(byte) == kind, "\(byte)") }
    }
}
