import Foundation
import TestSupport
import Testing

/// A TURN server that still holds an allocation for the daemon's 5-tuple (the daemon restarted
/// behind a NAT that kept its port) answers every Allocate with 437. Retrying from the same
/// port would fail until the old allocation expires (up to 10 minutes); the daemon must retry
/// from a new client port (RFC 8656 §7.2).
@Suite struct AllocationMismatchTests {
    /// A fake TURN server on UDP: answers each Allocate with 437 and prints the source port.
    static let fakeServer = #"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, src = s.recvfrom(2048)
    if len(data) < 20 or struct.unpack("!H", data[:2])[0] != 0x0003:
        continue
    print("allocate from", src[1], flush=True)
    reason = b"Allocation Mismatch"
    value = struct.pack("!HBB", 0, 4, 37) + reason
    pad = (4 - len(value) % 4) % 4
    attr = struct.pack("!HH", 0x0009, len(value)) + value + b"\0" * pad
    s.sendto(struct.pack("!HH", 0x0113, len(attr)) + data[4:20] + attr, src)
"""#

    @Test func a437IsRetriedFromANewClientPort() throws {
        let python = try requireTool("python3", install: "apt-get install python3")
        // Background: SIGTERM, then SIGKILL (a child of the test runner inherits a signal mask
        // that blocks SIGTERM).
        let server = try Background(python, ["-c", Self.fakeServer])
        defer { server.stop() }
        func lines() -> [String] { server.output.split(separator: "\n").map(String.init) }
        #expect(waitUntil { !lines().isEmpty })
        let port = try #require(lines().first.flatMap { UInt16($0) })
        let daemon = try Background(try iceAgentPath(), [
            "answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--relay-only", "--duration", "10",
            "--turn", "turn:127.0.0.1:\(port)", "--turn-user", "u:p", "--log-level", "info",
        ])
        defer { daemon.stop() }
        // The first Allocate, its 437, then after 2 s the retry.
        #expect(waitUntil(timeout: 8) { lines().filter { $0.hasPrefix("allocate from ") }.count >= 2 }, "\(lines())\n\(daemon.output)")
        let allocates = lines().filter { $0.hasPrefix("allocate from ") }
        try #require(allocates.count >= 2)
        #expect(allocates[0] != allocates[1], "the retry must come from another port: \(allocates)\n\(daemon.output)")
        #expect(daemon.output.contains("437 allocation mismatch: retrying from 127.0.0.1:"), "\(daemon.output)")
        #expect(daemon.process.isRunning)
    }
}
