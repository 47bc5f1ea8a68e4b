import AllocationCounter
import Runtime

// ice-bench: printed figures, not tests. `swift run -c release ice-bench stun`.
// Output lines: "<name>: <ns> ns/op, <allocs> allocs/op".

func usage() -> Never {
    printError("usage: ice-bench stun|ice|alloc-check [--iterations N]")
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
guard let suite = args.first else { usage() }
args.removeFirst()
var iterations = 200_000
while !args.isEmpty {
    guard args.count >= 2, args[0] == "--iterations", let n = Int(args[1]), n > 0 else { usage() }
    iterations = n
    args.removeFirst(2)
}

switch suite {
case "stun": runSTUNBenchmarks(iterations: iterations)
case "ice": runICEBenchmarks(iterations: iterations)
case "alloc-check": exit(runAllocationCheck())
default: usage()
}
