import CLinux
import Runtime

// The suites whose peers are real processes in network namespaces (coturn, Chromium, kernel
// NATs) are driven by a python3 script in interop/; these are the parts they share.

/// The ice-agent a driver runs: the one built next to this ice-bench (the same build
/// directory), else .build/release/ice-agent; nil, said, when neither is there.
func driverAgent(_ suite: String) -> String? {
    var agent = ".build/release/ice-agent"
    // access(2), not readFile: readFile gives nil for anything longer than its limit.
    if let path = executablePath(), let slash = path.lastIndex(of: "/") {
        let sibling = String(path[..<slash]) + "/ice-agent"
        if access(sibling, X_OK) == 0 { agent = sibling }
    }
    guard access(agent, X_OK) == 0 else {
        printError("ice-bench \(suite): build ice-agent first: swift build -c release --product ice-agent")
        return nil
    }
    return agent
}

/// Runs `/usr/bin/python3 script arguments` from the package root and maps its exit status:
/// 0 done, 2 something missing (`missing` says what, with the install command), 1 otherwise.
/// The script prints the figures: this process's own output is buffered and would come out
/// after the driver's.
func runDriver(_ suite: String, script: String, arguments: String, missing: String) -> Int32 {
    guard access(script, R_OK) == 0 else {
        printError("ice-bench \(suite): run from the package root (\(script) not found)")
        return 2
    }
    guard access("/usr/bin/python3", X_OK) == 0 else {
        printError("ice-bench \(suite): /usr/bin/python3 is missing: run scripts/install-deps")
        return 2
    }
    let status = system("/usr/bin/python3 \(script) \(arguments)")
    // system(3) returns a wait status: the exit code is in bits 8-15.
    guard status != -1, status & 0x7F == 0 else { return 1 }
    let code = (status >> 8) & 0xFF
    if code == 2 { printError("ice-bench \(suite): \(missing): run scripts/install-deps (as root)") }
    return code == 0 ? 0 : (code == 2 ? 2 : 1)
}
