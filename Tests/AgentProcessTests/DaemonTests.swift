import Foundation
import TestSupport
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
        // The time the sessions recorded when they completed, to the hundredth of a
        // millisecond, not a multiple of a polling period.
        #expect(r.stderr.range(of: #"demo: connected in [0-9]+\.[0-9]{2} ms"#, options: .regularExpression) != nil, "\(r.stderr)")
    }

    @Test func callAndAnswerOverStdioStreamRTP() throws {
        let r = try streamOverStdio()
        #expect(r.callStatus == 0, "\(r.callLog)")
        #expect(r.answerStatus == 0, "\(r.answerLog)")
        #expect(r.callLog.contains("doorbell: ICE completed"), "\(r.callLog)")
        // Packets sent before the pair was selected are dropped; most of the 3 s stream arrives.
        #expect(r.received > r.sent / 2, "sent \(r.sent), received \(r.received)\n\(r.callLog)\n\(r.answerLog)")
    }

    /// SIGUSR2 (the network changed) makes a side restart ICE over stdio (RFC 8445 §9): a new
    /// description with new credentials; the other side restarts too and answers with its own
    /// (either side may start it: stdio carries descriptions both ways). When both restart at
    /// the same moment, each takes the other's description for the answer to its own. Either
    /// way both complete again with the other's newest credentials and the stream goes on.
    @Test(arguments: [StdioSides.call, .answer, .both])
    func sigusr2RestartsICEOverStdioAndMediaGoesOn(_ sides: StdioSides) throws {
        let r = try streamOverStdio(signalCallAt: 1.5, signalled: sides)
        #expect(r.callStatus == 0, "\(r.callLog)")
        #expect(r.answerStatus == 0, "\(r.answerLog)")
        let logs = [(StdioSides.call, "doorbell", r.callLog), (.answer, "home", r.answerLog)]
        for (side, name, log) in logs {
            let initiated = sides == side || sides == .both
            #expect(log.contains("\(name): ICE restart (ufrag") == initiated, "\(log)")
            if !initiated { #expect(log.contains("\(name): ICE restart asked by the peer"), "\(log)") }
            // Completed once before the restart and once after it.
            #expect(log.components(separatedBy: "\(name): ICE completed").count == 3, "\(log)")
        }
        #expect(r.receivedAfterSignal > r.sentAfterSignal / 2, "sent \(r.sentAfterSignal), received \(r.receivedAfterSignal) after SIGUSR2")
    }

    /// `--signal stdio` whose stdin ends before any description: no peer can ever come, so
    /// the agent ends at once with 3 (ICE never connected) instead of waiting for ever. Both
    /// ways stdin reaches the loop: a regular file (read at once) and a pipe (epoll).
    @Test func stdinClosedBeforeAnyDescriptionEndsPromptlyWithNoPeer() throws {
        let agent = try iceAgentPath()
        let args = ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo"]
        let started = Date()
        let fromFile = try run(agent, args, stdin: "", timeout: 10)
        #expect(fromFile.status == 3, "\(fromFile.stderr)")
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(fromFile.stderr.contains("stdin closed before the peer's description: no peer"), "\(fromFile.stderr)")
        #expect(fromFile.stdout.hasPrefix("v=0\r\n"))

        let input = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: agent)
        p.arguments = args
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try input.fileHandleForWriting.close()
        #expect(waitUntil(timeout: 3) { !p.isRunning }, "still running 3 s after stdin closed")
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 3)
    }

    @Test func badSignalingInputIsRejectedNotFatal() throws {
        // A description that does not parse is logged with its line; with --duration the
        // daemon keeps running until then (a bounded run without a peer) and exits 3.
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
        // Media is encrypted unless asked otherwise (RFC 5764; the answerer takes setup active).
        #expect(r.stdout.contains(" UDP/TLS/RTP/SAVPF 111\r\n"))
        #expect(r.stdout.contains("\r\na=setup:active\r\n") && r.stdout.contains("\r\na=fingerprint:sha-256 "))
        #expect(r.stdout.contains("\r\na=rtpmap:111 opus/48000/2\r\n"))
        #expect(r.stdout.contains("\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"))
        let clear = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1",
                                                 "--media", "audio", "--payload-type", "111", "--rtpmap", "opus/48000/2",
                                                 "--media-security", "none"], timeout: 10)
        #expect(clear.stdout.contains(" RTP/AVP 111\r\n") && !clear.stdout.contains("a=fingerprint"), "\(clear.stdout)")
        let bad = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--payload-type", "300"])
        #expect(bad.status == 2 && bad.stderr.contains("--payload-type: 0..127"))
    }
}
