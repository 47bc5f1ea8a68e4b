import Foundation

/// The repository's root directory (board files, example configurations, interop scripts):
/// this file is Tests/TestSupport/Repository.swift.
public let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The text of a file of the repository, `path` relative to its root.
public func repoFile(_ path: String) throws -> String {
    try String(contentsOf: repoRoot.appendingPathComponent(path), encoding: .utf8)
}
