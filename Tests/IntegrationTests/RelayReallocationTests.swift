import Foundation
import TestSupport
import Testing

/// A relay-only doorbell whose TURN server restarts mid-call: the lost allocation's candidate
/// leaves the agent, a new allocation replaces it, and media flows again through the new relayed
/// address within seconds (the home learns it as peer-reflexive), instead of being sent into the
/// dead allocation until consent expires 30 s later.
@Suite(.serialized) struct RelayReallocationTests {
    /// Counts RTP reaching a local UDP port, on a thread of its own.
    final class Sink: @unchecked Sendable {
        let fd: Int32
        let port: UInt16
        private let lock = NSLock()
        private var arrivals: [Date] = []
        private var running = true

        init() {
            let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(s, $0, len); _ = getsockname(s, $0, &len) }
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            fd = s
            port = UInt16(bigEndian: a.sin_port)
            Thread.detachNewThread { self.loop() }
        }

        func loop() {
            var buffer = [UInt8](repeating: 0, count: 2048)
            while lock.withLock({ running }) {
                if buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {
                    lock.withLock { arrivals.append(Date()) }
                }
            }
        }

        func count(since: Date) -> Int { lock.withLock { arrivals.filter { $0 >= since }.count } }
        func stop() {
            lock.withLock { running = false }
            usleep(100_000)
            close(fd)
        }
    }

    /// The camera: RTP every 10 ms into a local port, on a thread of its own.
    final class Camera: @unchecked Sendable {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        private let lock = NSLock()
        private var running = true

        init(port: UInt16) {
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_addr.s_addr = inet_addr("127.0.0.1")
            to.sin_port = port.bigEndian
            let destination = to
            Thread.detachNewThread { self.loop(destination) }
        }

        func loop(_ destination: sockaddr_in) {
            var dst = destination
            var sequence = 0
            while lock.withLock({ running }) {
                var pkt: [UInt8] = [0x80, 96, UInt8(sequence >> 8 & 0xFF), UInt8(sequence & 0xFF), 0, 0, 0, 0, 0, 0, 0x12, 0x34]
                pkt += [UInt8](repeating: 0x55, count: 100)
                _ = pkt.withUnsafeBytes { b in
                    withUnsafePointer(to: &dst) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                }
                sequence += 1
                usleep(10_000)
            }
        }

        func stop() {
            lock.withLock { running = false }
            usleep(50_000)
            close(fd)
        }
    }

    @Test func mediaResumesThroughANewAllocationAfterTheTURNServerRestarts() throws {
        var coturn = try startCoturn()
        let turnPort = coturn.port
        defer { coturn.stop() }
        let agent = try iceAgentPath()
        let sink = Sink()
        defer { sink.stop() }
        let rtpIn = freeUDPPort()
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "45", "--log-level", "info"]
        let toCall = Pipe(), toAnswer = Pipe()
        let answer = Process(), call = Process()
        answer.executableURL = URL(fileURLWithPath: agent)
        answer.arguments = ["answer"] + common + ["--rtp-out", "127.0.0.1:\(sink.port)"]
        answer.standardInput = toAnswer
        answer.standardOutput = toCall
        call.executableURL = URL(fileURLWithPath: agent)
        // Over TCP, the allocation is lost with the connection (RFC 8656 §3.1): at once.
        call.arguments = ["call"] + common + ["--rtp-in", "127.0.0.1:\(rtpIn)", "--relay-only",
                                              "--turn", "turn:127.0.0.1:\(turnPort)?transport=tcp", "--turn-user", "test:secret"]
        call.standardInput = toCall
        call.standardOutput = toAnswer
        let tmp = FileManager.default.temporaryDirectory
        let answerLog = tmp.appendingPathComponent("answer-\(UUID().uuidString).log")
        let callLog = tmp.appendingPathComponent("call-\(UUID().uuidString).log")
        for u in [answerLog, callLog] { FileManager.default.createFile(atPath: u.path, contents: nil) }
        answer.standardError = try FileHandle(forWritingTo: answerLog)
        call.standardError = try FileHandle(forWritingTo: callLog)
        defer {
            for p in [answer, call] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: answerLog)
            try? FileManager.default.removeItem(at: callLog)
        }
        func callOutput() -> String { (try? String(contentsOf: callLog, encoding: .utf8)) ?? "" }
        func logs() -> String { callOutput() + "\n---- home ----\n" + ((try? String(contentsOf: answerLog, encoding: .utf8)) ?? "") }
        try answer.run()
        try call.run()

        let camera = Camera(port: rtpIn)
        defer { camera.stop() }

        let start = Date()
        #expect(waitUntil(timeout: 10) { callOutput().contains("doorbell: ICE completed") && sink.count(since: start) > 20 }, "\(logs())")
        coturn.stop()
        #expect(waitUntil(timeout: 5) { callOutput().contains("relayed candidate 127.0.0.1:") && callOutput().contains(" withdrawn") },
                "\(logs())")
        coturn = try startCoturn(port: turnPort)
        #expect(waitUntil(timeout: 15) { callOutput().components(separatedBy: "allocated 127.0.0.1:").count - 1 >= 2 }, "\(logs())")
        let reallocated = Date()
        // Media through the new relay, well before the 30 s a dead pair's consent would take.
        #expect(waitUntil(timeout: 8) { sink.count(since: reallocated.addingTimeInterval(0.5)) > 50 },
                "received \(sink.count(since: reallocated)) since the new allocation\n\(logs())")
        #expect(!callOutput().contains("ICE failed"), "\(logs())")
        #expect(call.isRunning && answer.isRunning, "\(logs())")
    }
}
