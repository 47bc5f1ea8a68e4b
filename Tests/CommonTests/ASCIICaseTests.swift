import Common
import Testing

/// Protocol tokens fold ASCII letters only: a field name or encoding name a peer sent with
/// non-ASCII bytes must keep them (and its length), not be mapped by Unicode rules.
@Suite struct ASCIICaseTests {
    @Test func asciiLettersFoldBothWays() {
        #expect("Content-Type: X-1".asciiLowercased() == "content-type: x-1")
        #expect("udp/tls/rtp/savpf".asciiUppercased() == "UDP/TLS/RTP/SAVPF")
        #expect("H264"[...].asciiLowercased() == "h264")
        #expect("".asciiLowercased() == "")
    }

    @Test func onlyTheLettersMoveNotTheirNeighbours() {
        // '@' and '[' sit just outside A-Z, '`' and '{' just outside a-z.
        #expect(Array("@AZ[`az{".utf8).map(\.asciiLowercased) == Array("@az[`az{".utf8))
        #expect(Array("@AZ[`az{".utf8).map(\.asciiUppercased) == Array("@AZ[`AZ{".utf8))
    }

    @Test func nonASCIIIsKeptByteForByte() {
        // Unicode lowercasing maps "İ" (U+0130) to two scalars and "Ä" to "ä"; a token compare
        // must not.
        let text = "İÄ-Host"
        let lower = text.asciiLowercased()
        #expect(lower == "İÄ-host")
        #expect(Array(lower.utf8.prefix(4)) == Array(text.utf8.prefix(4)))
        #expect(lower.utf8.count == text.utf8.count)
        #expect("ß-x".asciiUppercased() == "ß-X")
    }
}
