import Runtime

/// The configuration file: one `key = value` per line (`#` starts a comment); keys are the
/// long options of `call`/`answer` without the dashes. Flags take true/false. It expands to
/// arguments placed before the command line's, so the command line adds to or overrides it.
enum ConfigFile {
    static let valueKeys: Set<String> = ["stun", "rtp-in", "rtp-out", "interface", "exclude-interface", "duration",
                                         "log-level", "pcap", "status-socket", "listen", "url", "signal",
                                         "media", "payload-type", "rtpmap", "fmtp", "turn", "turn-user", "turn-ca", "board", "call-seconds"]
    static let flagKeys: Set<String> = ["allow-loopback", "relay-only", "on-button"]

    static func arguments(path: String) throws(UsageError) -> [String] {
        guard let bytes = readFile(path, limit: 64 * 1024) else { throw UsageError("cannot read config file " + path) }
        var out: [String] = []
        var n = 0
        for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw UsageError("config \(path) line \(n): expected key = value")
            }
            let key = trimmed[..<eq].split(separator: " ").joined()
            let value = trimmed[trimmed.index(after: eq)...].split(separator: " ").joined(separator: " ")
            if key == "url" {
                out.append(value)
            } else if valueKeys.contains(key) {
                guard !value.isEmpty else { throw UsageError("config \(path) line \(n): \(key) needs a value") }
                out += ["--" + key, value]
            } else if flagKeys.contains(key) {
                switch value {
                case "true", "yes", "1": out.append("--" + key)
                case "false", "no", "0": break
                default: throw UsageError("config \(path) line \(n): \(key) takes true or false")
                }
            } else {
                throw UsageError("config \(path) line \(n): unknown key \"\(key)\"")
            }
        }
        return out
    }
}
