import Common
import ICE
import Runtime
import STUN

let version = "0.1.0"

/// A command as typed after `ice-agent` ("stun decode" is two words), its generated help and
/// overview entry, and how it runs.
struct Command {
    let words: [String]
    let help: () -> String
    let overview: () -> String
    let run: ([String]) throws(UsageError) -> Int32

    init<T>(_ spec: CommandSpec<T>, run: @escaping ([String]) throws(UsageError) -> Int32) {
        words = spec.name.split(separator: " ").map(String.init)
        help = { spec.helpText }
        overview = { spec.overviewEntry }
        self.run = run
    }
}

/// Every command, in `--help` order.
func allCommands() -> [Command] { [
    Command(CallCommand.spec(role: .controlling)) { a throws(UsageError) in try CallCommand(role: .controlling, arguments: a).run() },
    Command(CallCommand.spec(role: .controlled)) { a throws(UsageError) in try CallCommand(role: .controlled, arguments: a).run() },
    Command(StatusCommand.spec) { a throws(UsageError) in try StatusCommand(arguments: a).run() },
    Command(DemoCommand.spec) { a throws(UsageError) in try DemoCommand(arguments: a).run() },
    Command(RTPCommand.spec(.send)) { a throws(UsageError) in try RTPCommand(mode: .send, arguments: a).run() },
    Command(RTPCommand.spec(.receive)) { a throws(UsageError) in try RTPCommand(mode: .receive, arguments: a).run() },
    Command(TurnCommand.spec) { a throws(UsageError) in try TurnCommand(arguments: a).run() },
    Command(StunDecode.spec) { a throws(UsageError) in try StunDecode(arguments: a).run() },
    Command(StunServerCommand.spec) { a throws(UsageError) in try StunServerCommand(arguments: a).run() },
    Command(StunClientCommand.spec) { a throws(UsageError) in try StunClientCommand(arguments: a).run() },
    Command(NatTypeCommand.spec) { a throws(UsageError) in try NatTypeCommand(arguments: a).run() },
] }

func run(_ args: [String]) -> Int32 {
    guard let first = args.first else { return usageMistake("ice-agent", "missing command", hint: "ice-agent --help") }
    switch first {
    case "--help", "-h", "help":
        writeStdout(usageText(allCommands()))
        return 0
    case "--version":
        print("ice-agent " + version)
        return 0
    default:
        break
    }
    let commands = allCommands()
    for c in commands where args.count >= c.words.count && Array(args[0..<c.words.count]) == c.words {
        let name = "ice-agent " + c.words.joined(separator: " ")
        do throws(UsageError) {
            return try c.run(Array(args[c.words.count...]))
        } catch .helpRequested {
            writeStdout(c.help())
            return 0
        } catch {
            return usageMistake(name, error.message, hint: name + " --help")
        }
    }
    // A group ("stun", "rtp", "turn"): its help lists its commands.
    let group = commands.filter { $0.words.count > 1 && $0.words[0] == first }
    guard !group.isEmpty else { return usageMistake("ice-agent", "unknown command: " + first, hint: "ice-agent --help") }
    let names = group.map { $0.words[1] }
    if args.count == 2 && (args[1] == "--help" || args[1] == "-h") {
        for c in group { writeStdout(c.help().split(separator: "\n", maxSplits: 1).first.map { String($0) + "\n" } ?? "") }
        writeStdout("(ice-agent " + first + " COMMAND --help for its options)\n")
        return 0
    }
    let problem = args.count < 2 ? "needs " + names.joined(separator: ", ") : "unknown command " + args[1] + " (" + names.joined(separator: ", ") + ")"
    return usageMistake("ice-agent " + first, problem, hint: "ice-agent " + first + " --help")
}

/// One line, exit status 2: the whole usage would bury the mistake.
func usageMistake(_ name: String, _ message: String, hint: String) -> Int32 {
    printError(name + ": " + message + " (see " + hint + ")")
    return 2
}

// /proc/self/cmdline rather than CommandLine, which Embedded Swift (the device build) lacks.
exit(run(Array(commandLineArguments().dropFirst())))
