// libFuzzer target over the kernel's link and address notifications as the agent reads them
// from its rtnetlink socket: `RTNetlinkParser.parse` on one datagram. Built and run by
// `fuzz/run rtnetlink`; see fuzz/README.md.
//
// Invariants (a violation traps):
//   - at most one change per message, and never more than `maxMessages` messages read;
//   - an added or removed address is IPv4 or IPv6 as its family said (4 or 16 bytes read);
//   - parsing the same bytes twice gives the same changes and the same error.
// Nothing is printed.

import Common
import RTNetlink

func parseAll(_ input: UnsafeRawBufferPointer) -> ([InterfaceChange], RTNetlinkError?) {
    var changes: [InterfaceChange] = []
    do throws(RTNetlinkError) {
        try RTNetlinkParser.parse(input) { changes.append($0) }
        return (changes, nil)
    } catch {
        sink(error.description)
        return (changes, error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let (changes, error) = parseAll(input)
    // Each message is at least a 16-byte header.
    require(changes.count <= max(1, input.count / 16), "more changes than messages")
    require(changes.count <= RTNetlinkParser.maxMessages, "more changes than maxMessages")
    for c in changes {
        switch c {
        case .addressAdded(_, let a, _), .addressRemoved(_, let a): sink(a.byteCount == 4 || a.byteCount == 16)
        case .linkChanged, .linkRemoved, .lost: break
        }
    }
    let (again, errorAgain) = parseAll(input)
    require(again == changes && errorAgain == error, "parsing is not deterministic")
    return 0
}
