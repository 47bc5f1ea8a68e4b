import Foundation

/// How many descriptors process `pid` holds open (-1 if /proc cannot say): a leak shows as growth.
public func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}

/// The rest of the first line of `text` that starts with `prefix`.
public func line(_ prefix: String, in text: String) -> String? {
    text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
}
