import Board
import Common
import Foundation

func ms(_ v: Int64) -> Instant { Instant(nanoseconds: v * 1_000_000) }

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func repoFile(_ path: String) throws -> String {
    try String(contentsOf: repoRoot.appendingPathComponent(path), encoding: .utf8)
}

func parse(_ text: String) throws(BoardFileError) -> BoardDefinition {
    try BoardDefinition(parsing: text)
}

/// The error a board text gives, nil if it parses.
func parseError(_ text: String) -> BoardFileError? {
    do throws(BoardFileError) {
        _ = try BoardDefinition(parsing: text)
        return nil
    } catch {
        return error
    }
}
