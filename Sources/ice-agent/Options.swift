import Config
import Runtime

/// One option of a command, declared once: the parser, `--help` and the config file all read it.
/// `apply` turns the value (empty for a flag) into the command's setting; it runs in command-line
/// order, so a repeatable option accumulates and any other one keeps its last value (the command
/// line, which comes after the config file, overrides it).
struct Option<Target>: Sendable {
    let spec: OptionSpec
    let apply: @Sendable (inout Target, String) throws(UsageError) -> Void

    init(_ name: String, _ kind: OptionSpec.Kind, repeatable: Bool = false, config: Bool = false, _ help: String,
         apply: @escaping @Sendable (inout Target, String) throws(UsageError) -> Void) {
        spec = OptionSpec(name: name, kind: kind, repeatable: repeatable, inConfig: config, help: help)
        self.apply = apply
    }
}

/// What the parser and `--help` know of an option. Kept apart from `Option`'s `apply`, which
/// is the only part that depends on the command, so that the table-reading code below exists
/// once in the binary rather than once per command.
struct OptionSpec: Sendable {
    enum Kind: Sendable { case flag, value(String) }

    let name: String
    let kind: Kind
    let repeatable: Bool
    /// Also a config-file key (the name without the dashes).
    let inConfig: Bool
    let help: String

    var configKey: String? { inConfig ? String(name.dropFirst(2)) : nil }
}

/// The one argument of a command that is not an option (call's URL, stun client's server).
struct Positional<Target>: Sendable {
    let name: String
    let help: String
    /// Its config-file key, if it has one.
    let configKey: String?
    let apply: @Sendable (inout Target, String) throws(UsageError) -> Void
}

/// A command's whole command-line surface.
struct CommandSpec<Target>: Sendable {
    /// As typed after `ice-agent`: "call", "stun decode".
    let name: String
    let synopsis: String
    let about: String
    var options: [Option<Target>]
    var positional: Positional<Target>? = nil
    /// `--config FILE`: config-file entries apply before the command line.
    var acceptsConfig = false

    var layout: CommandLayout {
        CommandLayout(name: name, synopsis: synopsis, about: about, options: options.map { $0.spec },
                      positional: positional.map { ($0.name, $0.help, $0.configKey) }, acceptsConfig: acceptsConfig)
    }

    /// Parses `arguments` into `target`. Throws `.helpRequested` for `--help`/`-h`.
    func parse(_ arguments: [String], into target: inout Target) throws(UsageError) {
        for (index, value) in try layout.steps(arguments) {
            if index < 0 {
                try positional!.apply(&target, value)
            } else {
                try options[index].apply(&target, value)
            }
        }
    }

    /// `ice-agent NAME --help`.
    var helpText: String { layout.helpText }

    /// This command in `ice-agent --help`.
    var overviewEntry: String { layout.overviewEntry }
}

/// A command's options as the parser and the help texts read them, whatever the command.
struct CommandLayout {
    let name: String
    let synopsis: String
    let about: String
    let options: [OptionSpec]
    let positional: (name: String, help: String, configKey: String?)?
    let acceptsConfig: Bool

    /// What to apply, in order: (option index, or -1 for the positional; value). Config files
    /// come first, in the order given, then the command line.
    func steps(_ arguments: [String]) throws(UsageError) -> [(Int, String)] {
        var configs: [String] = []
        var rest: [String] = []
        if acceptsConfig {
            // Each --config expands in front of what is already there.
            var j = 0
            while j < arguments.count {
                if arguments[j] == "--config" {
                    guard j + 1 < arguments.count else { throw UsageError.missingValue(option: "--config", metavar: "FILE") }
                    configs.insert(arguments[j + 1], at: 0)
                    j += 2
                } else {
                    rest.append(arguments[j])
                    j += 1
                }
            }
        } else {
            rest = arguments
        }
        var steps: [(Int, String)] = []  // (option index or -1 for the positional, value)
        for path in configs { steps += try configSteps(path: path) }
        steps += try commandLineSteps(rest)
        return steps
    }

    private func index(of name: String) -> Int? {
        var i = 0
        while i < options.count {
            if options[i].name == name { return i }
            i += 1
        }
        return nil
    }

    private func commandLineSteps(_ arguments: [String]) throws(UsageError) -> [(Int, String)] {
        var steps: [(Int, String)] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--help" || a == "-h" { throw UsageError.helpRequested }
            if a.hasPrefix("-") && a.count > 1 {
                guard let k = index(of: a) else { throw UsageError.unknownOption(a) }
                switch options[k].kind {
                case .flag:
                    steps.append((k, ""))
                case .value(let metavar):
                    guard i + 1 < arguments.count else { throw UsageError.missingValue(option: a, metavar: metavar) }
                    i += 1
                    steps.append((k, arguments[i]))
                }
            } else {
                // The positional's own `apply` decides whether a second one is an error.
                guard positional != nil else { throw UsageError.unexpectedArgument(a) }
                steps.append((-1, a))
            }
            i += 1
        }
        return steps
    }

    /// The config file (syntax: `ConfigText`) through the same table: `KEY = VALUE` for
    /// `--KEY VALUE`, flags take true/false.
    private func configSteps(path: String) throws(UsageError) -> [(Int, String)] {
        guard let bytes = readFile(path, limit: ConfigText.maxBytes) else { throw UsageError("cannot read config file " + path) }
        let parsed = bytes.withUnsafeBytes { raw -> Result<[ConfigEntry], ConfigError> in
            do throws(ConfigError) { return .success(try ConfigText.parse(raw)) } catch { return .failure(error) }
        }
        let entries: [ConfigEntry]
        switch parsed {
        case .success(let e): entries = e
        case .failure(let error): throw UsageError("config \(path) \(error.description)")
        }
        var steps: [(Int, String)] = []
        for e in entries {
            let n = e.line, key = e.key, value = e.value
            if let p = positional, p.configKey == key {
                steps.append((-1, value))
                continue
            }
            guard let k = index(of: "--" + key), options[k].inConfig else {
                throw UsageError("config \(path) line \(n): unknown key \"\(key)\"")
            }
            switch options[k].kind {
            case .value:
                guard !value.isEmpty else { throw UsageError("config \(path) line \(n): \(key) needs a value") }
                steps.append((k, value))
            case .flag:
                switch value {
                case "true", "yes", "1": steps.append((k, ""))
                case "false", "no", "0": break
                default: throw UsageError("config \(path) line \(n): \(key) takes true or false")
                }
            }
        }
        return steps
    }

    /// `ice-agent NAME --help`.
    var helpText: String {
        var out = "usage: ice-agent " + name + " " + synopsis + "\n" + about + "\n\n"
        var rows: [(String, String)] = []
        if let p = positional { rows.append((p.name, p.help)) }
        for o in options {
            var left = o.name
            if case .value(let metavar) = o.kind { left += " " + metavar }
            rows.append((left, o.help + (o.repeatable ? " (repeatable)" : "")))
        }
        if acceptsConfig { rows.append(("--config FILE", "KEY = VALUE lines applied before the command line (repeatable)")) }
        rows.append(("--help", "this text"))
        for (left, help) in rows {
            out += "  " + left
            if left.count < 28 {
                out += String(repeating: " ", count: 30 - left.count - 2)
            } else {
                out += "\n" + String(repeating: " ", count: 30)
            }
            out += help + "\n"
        }
        if acceptsConfig {
            var keys: [String] = []
            if let k = positional?.configKey { keys.append(k) }
            for o in options { if let k = o.configKey { keys.append(k) } }
            out += "\nconfig file keys (flags take true or false):\n" + wrapped(keys, indent: 2, width: 100)
        }
        return out
    }
}

extension CommandLayout {
    /// `[--name METAVAR]`, with `...` after a repeatable one, as a usage line writes an option.
    func usage(_ o: OptionSpec) -> String {
        var text = "[" + o.name
        if case .value(let metavar) = o.kind { text += " " + metavar }
        return text + "]" + (o.repeatable ? "..." : "")
    }

    /// This command in `ice-agent --help`: its usage line, what it does, and the options its
    /// synopsis leaves to `[OPTION]...`, all from the table `COMMAND --help` prints.
    var overviewEntry: String {
        let indent = String(repeating: " ", count: 6)
        var out = "  ice-agent " + name + " " + synopsis + "\n"
        for line in about.split(separator: "\n") { out += indent + line + "\n" }
        let named = synopsis.split { $0 == " " || $0 == "[" || $0 == "]" || $0 == "(" || $0 == ")" || $0 == "|" }.map(String.init)
        var rest = options.filter { !named.contains($0.name) }.map { usage($0) }
        if acceptsConfig { rest.append("[--config FILE]...") }
        if !rest.isEmpty {
            // A hanging indent: the continuation lines line up under the first option.
            let label = indent + "options: "
            out += label + wrapped(rest, indent: label.count, width: 100).dropFirst(label.count)
        }
        return out
    }
}

func wrapped(_ words: [String], indent: Int, width: Int) -> String {
    let pad = String(repeating: " ", count: indent)
    var out = "", line = pad
    for w in words {
        if line.count > indent && line.count + 1 + w.count > width {
            out += line + "\n"
            line = pad
        }
        line += (line.count > indent ? " " : "") + w
    }
    return out + line + "\n"
}

/// Parses a number within `range`, or throws `message`: the common shape of numeric options.
func number<T: FixedWidthInteger>(_ text: String, in range: ClosedRange<T>, _ message: String) throws(UsageError) -> T {
    guard let n = T(text), range.contains(n) else { throw UsageError(message) }
    return n
}
