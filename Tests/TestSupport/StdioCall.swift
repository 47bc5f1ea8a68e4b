import Foundation

/// What a cross-wired call/answer over stdio did.
public struct StdioCall {
    public var sent = 0, received = 0
    /// What was sent and received from `signalCallAt` on (all of it when not signalled).
    public var sentAfterSignal = 0, receivedAfterSignal = 0
    public var callStatus: Int32 = -1, answerStatus: Int32 = -1
    public var callLog = "", answerLog = ""
}

/// `ice-agent answer` and `ice-agent call` running with their stdio cross-wired: one's
/// description and trickle lines are the other's input. stderr goes to a log file each.
public final class CrossWiredAgents {
    public let answer = Process(), call = Process()
    let answerLog = FileManager.default.temporaryDirectory.appendingPathComponent("answer-\(UUID().uuidString).log")
    let callLog = FileManager.default.temporaryDirectory.appendingPathComponent("call-\(UUID().uuidString).log")

    /// `answerNamespace`, `callNamespace`: run that side in a network namespace (`ip netns exec`).
    public init(answer answerArgs: [String], call callArgs: [String], answerNamespace: String? = nil,
                callNamespace: String? = nil) throws {
        let agent = try iceAgentPath()
        let toCall = Pipe(), toAnswer = Pipe()
        func launch(_ p: Process, _ namespace: String?, _ arguments: [String]) {
            if let namespace {
                p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
                p.arguments = ["netns", "exec", namespace, agent] + arguments
            } else {
                p.executableURL = URL(fileURLWithPath: agent)
                p.arguments = arguments
            }
        }
        launch(answer, answerNamespace, ["answer"] + answerArgs)
        answer.standardInput = toAnswer
        answer.standardOutput = toCall
        launch(call, callNamespace, ["call"] + callArgs)
        call.standardInput = toCall
        call.standardOutput = toAnswer
        for l in [answerLog, callLog] { _ = FileManager.default.createFile(atPath: l.path, contents: nil) }
        answer.standardError = try FileHandle(forWritingTo: answerLog)
        call.standardError = try FileHandle(forWritingTo: callLog)
        try answer.run()
        try call.run()
    }

    public func log(of p: Process) -> String {
        (try? String(contentsOf: p === answer ? answerLog : callLog, encoding: .utf8)) ?? ""
    }

    /// Kills what still runs (by PID) and removes the logs.
    public func stop() {
        for p in [answer, call] where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: answerLog)
        try? FileManager.default.removeItem(at: callLog)
    }
}

/// Runs `ice-agent answer` and `ice-agent call` cross-wired over stdio for 4 s, feeds RTP into
/// the doorbell's --rtp-in for 3 s and counts what reaches the home's --rtp-out. With
/// `signalCallAt`, the call gets SIGUSR2 (the network changed: restart ICE) that many seconds in;
/// `signalled` says which side gets it (both: at once, a restart glare).
/// Which of a stdio call's agents a test signals.
public enum StdioSides: Sendable { case call, answer, both }

public func streamOverStdio(extra: [String] = [], signalCallAt: TimeInterval? = nil, signalled sides: StdioSides = .call) throws -> StdioCall {
    let rtpIn = freeUDPPort(), rtpOut = freeUDPPort()
    let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "4"] + extra
    let agents = try CrossWiredAgents(answer: common + ["--rtp-out", "127.0.0.1:\(rtpOut)"],
                                      call: common + ["--rtp-in", "127.0.0.1:\(rtpIn)"])
    let (answer, call) = (agents.answer, agents.call)
    defer { agents.stop() }

    // The camera: RTP to the doorbell's ingress port; the speaker: the home's egress port.
    let tx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), rx = bindLoopback(Int32(SOCK_DGRAM.rawValue), port: rtpOut).fd
    defer { close(tx); close(rx) }
    setReceiveTimeout(rx, microseconds: 20_000)
    var received = 0, sent = 0, sentAfter = 0, receivedAfter = 0
    var signalled = signalCallAt == nil
    let start = Date()
    var buffer = [UInt8](repeating: 0, count: 2048)
    while Date().timeIntervalSince(start) < 3 {
        if !signalled, let at = signalCallAt, Date().timeIntervalSince(start) >= at {
            if sides != .answer { kill(call.processIdentifier, SIGUSR2) }
            if sides != .call { kill(answer.processIdentifier, SIGUSR2) }
            signalled = true
        }
        sendLoopback(tx, testRTPPacket(sequence: sent), to: rtpIn)
        sent += 1
        if signalled { sentAfter += 1 }
        while buffer.withUnsafeMutableBytes({ recv(rx, $0.baseAddress, $0.count, 0) }) > 0 {
            received += 1
            if signalled { receivedAfter += 1 }
        }
    }
    answer.waitUntilExit()
    call.waitUntilExit()
    var result = StdioCall()
    result.sent = sent
    result.received = received
    result.sentAfterSignal = sentAfter
    result.receivedAfterSignal = receivedAfter
    result.callStatus = call.terminationStatus
    result.answerStatus = answer.terminationStatus
    result.callLog = agents.log(of: call)
    result.answerLog = agents.log(of: answer)
    return result
}
