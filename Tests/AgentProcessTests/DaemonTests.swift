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

    /// SIGUSR2 (the network changed) makes the calling side restart ICE over stdio (RFC 8445
    /// §9): a new description with new credentials; the home restarts too and answers with
    /// its own. Both complete again and the stream goes on through it.
    @Test func sigusr2RestartsICEOverStdioAndMediaGoesOn() throws {
        let r = try streamOverStdio(signalCallAt: 1.5)
        #expect(r.callStatus == 0, "\(r.callLog)")
        #expect(r.answerStatus == 0, "\(r.answerLog)")
        #expect(r.callLog.contains("doorbell: ICE restart (ufrag"), "\(r.callLog)")
        #expect(r.answerLog.contains("home: ICE restart asked by the peer"), "\(r.answerLog)")
        // Completed once before the restart and once after it, on each side.
        #expect(r.callLog.components(separatedBy: "doorbell: ICE completed").count == 3, "\(r.callLog)")
        #expect(r.answerLog.components(separatedBy: "home: ICE completed").count == 3, "\(r.answerLog)")
        #expect(r.receivedAfterSignal > r.sentAfterSignal / 2, "sent \(r.sentAfterSignal), received \(r.receivedAfterSignal) after SIGUSR2")
    }

    /// The home restarts too when its signaling can carry it (stdio): its new description
    /// goes to the doorbell, which restarts and answers with its own offer.
    @Test func sigusr2OnTheAnsweringSideRestartsICEOverStdio() throws {
        let r = try streamOverStdio(signalCallAt: 1.5, signalled: .answer)
        #expect(r.callStatus == 0, "\(r.callLog)")
        #expect(r.answerStatus == 0, "\(r.answerLog)")
        #expect(r.answerLog.contains("home: ICE restart (ufrag"), "\(r.answerLog)")
        #expect(r.callLog.contains("doorbell: ICE restart asked by the peer"), "\(r.callLog)")
        #expect(r.callLog.components(separatedBy: "doorbell: ICE completed").count == 3, "\(r.callLog)")
        #expect(r.answerLog.components(separatedBy: "home: ICE completed").count == 3, "\(r.answerLog)")
        #expect(r.receivedAfterSignal > r.sentAfterSignal / 2, "sent \(r.sentAfterSignal), received \(r.receivedAfterSignal) after SIGUSR2")
    }

    /// Both sides restart at the same moment (a network change both see): each takes the
    /// other's restart description for the answer to its own, so both end up with the other's
    /// newest credentials, complete again, and media goes on.
    @Test func simultaneousRestartsOverStdioSettleAndMediaGoesOn() throws {
        let r = try streamOverStdio(signalCallAt: 1.5, signalled: .both)
        #expect(r.callStatus == 0, "\(r.callLog)")
        #expect(r.answerStatus == 0, "\(r.answerLog)")
        #expect(r.answerLog.contains("home: ICE restart (ufrag") && r.callLog.contains("doorbell: ICE restart (ufrag"), "\(r.callLog)\n\(r.answerLog)")
        #expect(r.callLog.components(separatedBy: "doorbell: ICE completed").count == 3, "\(r.callLog)")
        #expect(r.answerLog.components(separatedBy: "home: ICE completed").count == 3, "\(r.answerLog)")
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
