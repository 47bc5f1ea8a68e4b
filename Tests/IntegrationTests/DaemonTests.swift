import Foundation
import Testing

/// The daemon on real loopback sockets: two processes signaling over their stdio, and the
/// in-process demo.
@Suite(.serialized) struct DaemonTests {
    @Test func demoStreamsMedia() throws {
        let r = try run(try iceAgentPath(), ["demo", "--seconds", "1"], timeout: 30)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("demo: media arrived: OK"))
        #expect(r.stdout.contains("R W N  base"))  // the pair table
        #expect(r.stderr.contains("doorbell: ICE completed") && r.stderr.contains("home: ICE completed"))
    }

    @Test func callAndAnswerOverStdioStreamRTP() throws {
        let agent = try iceAgentPath()
        let rtpIn = freeUDPPort(), rtpOut = freeUDPPort()
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "4"]
        // Cross-wire the two processes' stdio: one's description and trickle lines are the
        // other's input.
        let toCall = Pipe(), toAnswer = Pipe()
        let answer = Process(), call = Process()
        answer.executableURL = URL(fileURLWithPath: agent)
        answer.arguments = ["answer"] + common + ["--rtp-out", "127.0.0.1:\(rtpOut)"]
        answer.standardInput = toAnswer
        answer.standardOutput = toCall
        call.executableURL = URL(fileURLWithPath: agent)
        call.arguments = ["call"] + common + ["--rtp-in", "127.0.0.1:\(rtpIn)"]
        call.standardInput = toCall
        call.standardOutput = toAnswer
        let answerLog = FileManager.default.temporaryDirectory.appendingPathComponent("answer-\(UUID().uuidString).log")
        let callLog = FileManager.default.temporaryDirectory.appendingPathComponent("call-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: answerLog.path, contents: nil)
        FileManager.default.createFile(atPath: callLog.path, contents: nil)
        answer.standardError = try FileHandle(forWritingTo: answerLog)
        call.standardError = try FileHandle(forWritingTo: callLog)
        defer {
            for p in [answer, call] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: answerLog)
            try? FileManager.default.removeItem(at: callLog)
        }
        try answer.run()
        try call.run()

        // The camera: RTP to the doorbell's ingress port; the speaker: the home's egress port.
        let tx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), rx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(tx); close(rx) }
        var rxAddr = sockaddr_in()
        rxAddr.sin_family = sa_family_t(AF_INET)
        rxAddr.sin_addr.s_addr = inet_addr("127.0.0.1")
        rxAddr.sin_port = rtpOut.bigEndian
        _ = withUnsafePointer(to: &rxAddr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(rx, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var txAddr = rxAddr
        txAddr.sin_port = rtpIn.bigEndian
        var received = 0, sent = 0
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 2048)
        while Date().timeIntervalSince(start) < 3 {
            var pkt: [UInt8] = [0x80, 96, UInt8(sent >> 8 & 0xFF), UInt8(sent & 0xFF), 0, 0, 0, 0, 0, 0, 0x12, 0x34]
            pkt += [UInt8](repeating: 0x55, count: 100)
            _ = pkt.withUnsafeBytes { b in
                withUnsafePointer(to: &txAddr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(tx, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            sent += 1
            while buffer.withUnsafeMutableBytes({ recv(rx, $0.baseAddress, $0.count, 0) }) > 0 { received += 1 }
        }
        answer.waitUntilExit()
        call.waitUntilExit()
        let callText = (try? String(contentsOf: callLog, encoding: .utf8)) ?? ""
        let answerText = (try? String(contentsOf: answerLog, encoding: .utf8)) ?? ""
        #expect(call.terminationStatus == 0, "\(callText)")
        #expect(answer.terminationStatus == 0, "\(answerText)")
        #expect(callText.contains("doorbell: ICE completed"), "\(callText)")
        // Packets sent before the pair was selected are dropped; most of the 3 s stream arrives.
        #expect(received > sent / 2, "sent \(sent), received \(received)\n\(callText)\n\(answerText)")
    }

    @Test func badSignalingInputIsRejectedNotFatal() throws {
        // A description that does not parse is logged with its line; the daemon keeps running
        // until --duration and exits 3 (never connected).
        let r = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1"],
                        stdin: "v=0\r\nnonsense\r\n\r\na=candidate:garbage\r\n", timeout: 10)
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("SDP line 2: malformed line"), "\(r.stderr)")
        #expect(r.stdout.hasPrefix("v=0\r\n"))
    }

    @Test func mediaLineComesFromConfiguration() throws {
        let r = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1",
                                             "--media", "audio", "--payload-type", "111", "--rtpmap", "opus/48000/2",
                                             "--fmtp", "minptime=10;useinbandfec=1"], timeout: 10)
        #expect(r.stdout.contains("\r\nm=audio "), "\(r.stdout)")
        #expect(r.stdout.contains(" RTP/AVP 111\r\n"))
        #expect(r.stdout.contains("\r\na=rtpmap:111 opus/48000/2\r\n"))
        #expect(r.stdout.contains("\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"))
        let bad = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--payload-type", "300"])
        #expect(bad.status == 2 && bad.stderr.contains("--payload-type: 0..127"))
    }
}
