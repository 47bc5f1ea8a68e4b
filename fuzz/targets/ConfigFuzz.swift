// libFuzzer target over the configuration file's syntax (`ConfigText`, read by `--config`).
// Built and run by `fuzz/run config`; see fuzz/README.md.
//
// Invariants (a violation traps):
//   - an entry's key is not empty, has no blank, `=` or leading `#`; its value has no blank at
//     either end; line numbers grow and stay within the text's lines;
//   - the entries written back as `key=value` lines parse to the same keys and values;
//   - an error names a line of the text.
// Nothing is printed.

import Config

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var lines = 1
    for b in input where b == UInt8(ascii: "\n") { lines += 1 }
    let entries: [ConfigEntry]
    do throws(ConfigError) {
        entries = try ConfigText.parse(input)
    } catch {
        require(error.line >= 1 && error.line <= lines || error.kind == .tooLarge, "an error names no line of the text")
        sink(error.description)
        return 0
    }
    var last = 0
    var written = ""
    for e in entries {
        require(e.line > last && e.line <= lines, "entry line numbers out of order")
        last = e.line
        require(!e.key.isEmpty && !e.key.hasPrefix("#"), "an empty or comment key")
        for c in e.key.utf8 { require(c != 0x20 && c != 0x09 && c != 0x0D && c != UInt8(ascii: "="), "a blank or = in a key") }
        if let first = e.value.utf8.first, let lastByte = e.value.utf8.last {
            require(first != 0x20 && first != 0x09 && first != 0x0D, "a value starting with a blank")
            require(lastByte != 0x20 && lastByte != 0x09 && lastByte != 0x0D, "a value ending with a blank")
        }
        written += e.key + "=" + e.value + "\n"
    }
    do throws(ConfigError) {
        let again = try ConfigText.parse(written)
        require(again.count == entries.count, "written entries re-parse to another count")
        for i in 0..<entries.count {
            require(again[i].key == entries[i].key && again[i].value == entries[i].value, "written entry re-parses differently")
        }
    } catch {
        // Invalid UTF-8 comes back as U+FFFD, three bytes for one: the text may grow past the limit.
        require(error.kind == .tooLarge, "written entries do not parse")
    }
    return 0
}
