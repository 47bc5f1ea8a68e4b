import Config
import Foundation
import TestSupport
import Testing

@Suite struct ConfigTextTests {
    func pairs(_ text: String) throws -> [String] {
        try ConfigText.parse(text).map { "\($0.line):\($0.key)=\($0.value)" }
    }

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try ConfigText.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func doorbellConfParses() throws {
        let entries = try ConfigText.parse(repoFile("board/doorbell.conf"))
        #expect(entries.map(\.key) == ["url", "stun", "rtp-in", "log-level", "status-socket", "board", "on-button", "call-seconds"])
        #expect(entries[0] == ConfigEntry(line: 3, key: "url", value: "http://home.example:8080/whip"))
        #expect(entries[4].value == "/run/ice-agent/status.sock")
        #expect(entries[7] == ConfigEntry(line: 10, key: "call-seconds", value: "120"))
    }

    /// A `#` inside a value is data: a password may hold one. Only a `#` at the start of the
    /// line or after a blank begins a comment.
    @Test func hashInsideAValueIsKept() throws {
        #expect(try pairs("turn-user = u:pa#ss\n") == ["1:turn-user=u:pa#ss"])
        #expect(try pairs("turn-user = u:pa#ss # the relay's account\n") == ["1:turn-user=u:pa#ss"])
        #expect(try pairs("fmtp = a=1;b=#2\t# tab before the comment\n") == ["1:fmtp=a=1;b=#2"])
        #expect(try pairs("stun=#x\n") == ["1:stun=#x"])
        #expect(try pairs("stun = # only a comment\n") == ["1:stun="])
    }

    @Test func commentBlankAndCRLFLines() throws {
        let text = "# header\r\n   # indented comment\r\n\r\n \t \r\nstun = a:1\r\n  log-level\t=\tdebug  \r\n#stun = b:2"
        #expect(try pairs(text) == ["5:stun=a:1", "6:log-level=debug"])
        #expect(try pairs("") == [])
        #expect(try pairs("\n\n") == [])
    }

    @Test func valueKeepsInnerBlanksAndEquals() throws {
        #expect(try pairs("fmtp = profile-level-id=42e01f; packetization-mode=1\n")
                == ["1:fmtp=profile-level-id=42e01f; packetization-mode=1"])
        #expect(try pairs("k =\n") == ["1:k="])
    }

    @Test func malformedLinesNameTheirLine() {
        #expect(error("stun = a\nnonsense\n") == ConfigError(line: 2, .expectedKeyValue))
        #expect(error("# x\n\n = value\n") == ConfigError(line: 3, .emptyKey))
        #expect(error("turn user = x\n") == ConfigError(line: 1, .blankInKey))
        #expect(error("a#b\n") == ConfigError(line: 1, .expectedKeyValue))
        #expect(ConfigError(line: 2, .expectedKeyValue).description == "line 2: expected key = value")
    }

    @Test func sizeIsBounded() {
        let big = String(repeating: "# padding line\n", count: ConfigText.maxBytes / 15 + 1)
        #expect(error(big) == ConfigError(line: 0, .tooLarge))
        let justFits = String(repeating: "#", count: ConfigText.maxBytes)
        #expect(error(justFits) == nil)
    }

    /// Bytes that are not UTF-8 are replaced, never trapped on.
    @Test func invalidUTF8IsReplaced() throws {
        let bytes: [UInt8] = Array("key = ".utf8) + [0xFF, 0xC3, 0x00] + Array("\n".utf8)
        let entries = try bytes.withUnsafeBytes { try ConfigText.parse($0) }
        #expect(entries.count == 1 && entries[0].key == "key")
        #expect(entries[0].value.unicodeScalars.first == "\u{FFFD}")
    }
}
