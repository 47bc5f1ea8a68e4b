import Board
import Common

func ms(_ v: Int64) -> Instant { Instant(nanoseconds: v * 1_000_000) }

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
