import Foundation

/// The directory holding the package's built products (the test bundle sits beside them).
public let productsDirectory: URL = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent()
}()

/// Path of the `ice-agent` binary built with these tests.
public func iceAgentPath() throws -> String {
    let path = productsDirectory.appendingPathComponent("ice-agent").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("ice-agent not built at \(path): run `swift build` before `swift test`")
    }
    return path
}

/// Path of the `ice-bench` binary built with these tests.
public func iceBenchPath() throws -> String {
    let path = productsDirectory.appendingPathComponent("ice-bench").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("ice-bench not built at \(path): run `swift build` before `swift test`")
    }
    return path
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Fails with the install command when a third-party tool is missing (never a silent skip).
public func requireTool(_ name: String, install: String) throws -> String {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let p = dir + "/" + name
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    throw TestFailure("\(name) is not installed: run `\(install)`")
}

/// Result of a finished process.
public struct Finished {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a process to completion with optional stdin, killing it (by PID) after `timeout`.
/// Output goes to temporary files, so a chatty process can never block on a full pipe.
public func run(_ path: String, _ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 20) throws -> Finished {
    let tmp = FileManager.default.temporaryDirectory
    let id = UUID().uuidString
    let outURL = tmp.appendingPathComponent("ice-test-\(id).out"), errURL = tmp.appendingPathComponent("ice-test-\(id).err")
    let inURL = tmp.appendingPathComponent("ice-test-\(id).in")
    defer { for u in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: u) } }
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    p.standardInput = try FileHandle(forReadingFrom: inURL)
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        throw TestFailure("\(path) \(arguments) did not finish in \(timeout) s")
    }
    p.waitUntilExit()
    return Finished(status: p.terminationStatus,
                    stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                    stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// A background process stopped (by its PID) when the value is released or `stop()` is called.
public final class Background {
    public let process = Process()
    public let log: URL

    public init(_ path: String, _ arguments: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("ice-test-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }

    deinit { stop() }
}

/// A UDP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
public func freeUDPPort() -> UInt16 { freePort(Int32(SOCK_DGRAM.rawValue)) }

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeTCPPort() -> UInt16 { freePort(Int32(SOCK_STREAM.rawValue)) }

public func freePort(_ type: Int32) -> UInt16 {
    let (fd, port) = bindLoopback(type)
    close(fd)
    return port
}

/// Waits until `condition` holds or `timeout` passes.
public func waitUntil(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
