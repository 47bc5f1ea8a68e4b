import Config
import Runtime

/// The configuration file (syntax: `ConfigText`); keys are the long options of `call`/`answer`
/// without the dashes. Flags take true/false. It expands to arguments placed before the
/// command line's, so the command line adds to or overrides it.
enum ConfigFile {
    static let valueKeys: Set<String> = ["stun", "rtp-in", "rtp-out", "interface", "exclude-interface", "duration",
                                         "log-level", "pcap", "pcap-max-bytes", "status-socket", "listen", "url", "signal",
                                         "media", "payload-type", "rtpmap", "fmtp", "turn", "turn-user", "turn-ca", "board", "call-seconds",
                                         "token-file", "turn-user-file", "max-session-seconds", "gather-wait", "setup-seconds"]
    static let flagKeys: Set<String> = ["allow-loopback", "relay-only", "on-button"]

    static func arguments(path: String) throws(UsageError) -> [String] {
        guard let bytes = readFile(path, limit: ConfigText.maxBytes) else { throw UsageError("cannot read config file " + path) }
        let parsed = bytes.withUnsafeBytes { raw -> Result<[ConfigEntry], ConfigError> in
            do throws(ConfigError) { return .success(try ConfigText.parse(raw)) } catch { return .failure(error) }
        }
        let entries: [ConfigEntry]
        switch parsed {
        case .success(let e): entries = e
        case .failure(let error): throw UsageError("config \(path) \(error.description)")
        }
        var out: [String] = []
        for e in entries {
            let n = e.line, key = e.key, value = e.value
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
