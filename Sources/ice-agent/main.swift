import Common
import ICE
import Runtime
import STUN

let version = "0.1.0"

func run(_ args: [String]) -> Int32 {
    do throws(UsageError) {
        guard let command = args.first else { throw UsageError("missing command") }
        switch command {
        case "--help", "-h", "help":
            print(usageText)
            return 0
        case "--version":
            print("ice-agent " + version)
            return 0
        case "call": return try CallCommand(role: .controlling, arguments: Array(args.dropFirst())).run()
        case "answer": return try CallCommand(role: .controlled, arguments: Array(args.dropFirst())).run()
        case "status": return try StatusCommand(arguments: Array(args.dropFirst())).run()
        case "demo": return try DemoCommand(arguments: Array(args.dropFirst())).run()
        case "rtp": return try RTPCommand(arguments: Array(args.dropFirst())).run()
        case "turn": return try TurnCommand(arguments: Array(args.dropFirst())).run()
        case "stun":
            guard args.count >= 2 else { throw UsageError("stun needs decode, server or client") }
            let rest = Array(args[2...])
            switch args[1] {
            case "decode": return try StunDecode(arguments: rest).run()
            case "server": return try StunServerCommand(arguments: rest).run()
            case "client": return try StunClientCommand(arguments: rest).run()
            default: throw UsageError("unknown stun command: " + args[1])
            }
        default:
            throw UsageError("unknown command: " + command)
        }
    } catch {
        printError("ice-agent: " + error.message)
        printError(usageText)
        return 2
    }
}

// /proc/self/cmdline rather than CommandLine, which Embedded Swift (the device build) lacks.
exit(run(Array(commandLineArguments().dropFirst())))
