// libFuzzer target over the board file parser (`BoardDefinition(parsing:)`, read by
// `--board`). Built and run by `fuzz/run board`; see fuzz/README.md.
//
// Invariants (a violation traps):
//   - an error names a line of the text (`unreadable` is for files only);
//   - a parsed board has at most maxLEDs LEDs, no GPIO line used twice (LEDs and button), a
//     pattern for every LED in every state, and a debounce of at most 10 s.
// Nothing is printed.

import Board
import Common

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var lines = 1
    for b in input where b == UInt8(ascii: "\n") { lines += 1 }
    let board: BoardDefinition
    do throws(BoardFileError) {
        board = try BoardDefinition(parsing: text(input))
    } catch {
        if case .unreadable = error.kind { fail("unreadable from text") }
        require(error.line >= 1 && error.line <= lines, "an error names no line of the text")
        sink(error.description)
        return 0
    }
    require(board.leds.count <= BoardDefinition.maxLEDs, "more LEDs than maxLEDs")
    for i in 0..<board.leds.count {
        for j in 0..<i { require(board.leds[i].line != board.leds[j].line, "two LEDs on one line") }
        if let b = board.button { require(b.line != board.leds[i].line, "an LED on the button's line") }
        require(board.ledIndex(named: board.leds[i].name[...]) != nil, "an LED not found by its name")
        for s in AgentStatus.all { sink(board.pattern(led: i, in: s)) }
    }
    if let b = board.button {
        require(b.debounce <= .milliseconds(10_000), "debounce over 10 s")
        sink(b.line.description)
    }
    return 0
}
