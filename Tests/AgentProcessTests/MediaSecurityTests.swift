import Foundation
import Testing
import TestSupport

/// DTLS-SRTP between two ice-agent processes (RFC 5764): what the camera sends is clear at
/// both ends and never on the wire, the handshake is bound to the signaled fingerprint, and
/// clear RTP happens only when both sides were told so.
@Suite(.serialized) struct MediaSecurityTests {
    /// A payload no cipher output will contain by chance.
    static let marker = Array("DOORBELL-CLEARTEXT-PAYLOAD-0123456789".utf8)

    static func packet(_ sequence: Int) -> [UInt8] {
        [0x80, 96, UInt8(sequence >> 8 & 0xFF), UInt8(sequence & 0xFF), 0, 0, 0, 0, 0, 0, 0x12, 0x34] + marker + marker
    }

    struct Outcome {
        var received: [[UInt8]] = []
        var pcap = Data()
        var callLog = "", answerLog = ""
        var callStatus: Int32 = -1
    }

    /// The doorbell (call) streams marked RTP for 3 s to the home (answer), which records every
    /// datagram on its sockets (`--pcap`) and delivers media to a port the test reads.
    func stream(extra: [String]) throws -> Outcome {
        let pcap = FileManager.default.temporaryDirectory.appendingPathComponent("home-\(UUID().uuidString).pcap").path
        defer { try? FileManager.default.removeItem(atPath: pcap) }
        let rtpIn = freeUDPPort(), rtpOut = freeUDPPort()
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "4"] + extra
        let agents = try CrossWiredAgents(answer: common + ["--rtp-out", "127.0.0.1:\(rtpOut)", "--pcap", pcap],
                                          call: common + ["--rtp-in", "127.0.0.1:\(rtpIn)"])
        defer { agents.stop() }
        let tx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), rx = bindLoopback(Int32(SOCK_DGRAM.rawValue), port: rtpOut).fd
        defer { close(tx); close(rx) }
        setReceiveTimeout(rx, microseconds: 20_000)
        var outcome = Outcome()
        var buffer = [UInt8](repeating: 0, count: 2048)
        let start = Date()
        var sequence = 0
        while Date().timeIntervalSince(start) < 3 {
            sendLoopback(tx, Self.packet(sequence), to: rtpIn)
            sequence += 1
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(rx, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                outcome.received.append(Array(buffer[0..<n]))
            }
        }
        agents.call.waitUntilExit()
        agents.answer.waitUntilExit()
        outcome.callStatus = agents.call.terminationStatus
        outcome.callLog = agents.log(of: agents.call)
        outcome.answerLog = agents.log(of: agents.answer)
        outcome.pcap = (try? Data(contentsOf: URL(fileURLWithPath: pcap))) ?? Data()
        return outcome
    }

    @Test func mediaIsEncryptedOnTheWireAndClearAtTheEnds() throws {
        let o = try stream(extra: [])
        #expect(o.received.count > 50, "\(o.answerLog)")
        // Decrypted for the pipeline: the packet as the camera sent it (RFC 3711 §3.3).
        #expect(o.received.allSatisfy { $0.count == Self.packet(0).count && $0[0] == 0x80 && $0[1] & 0x7F == 96 })
        #expect(o.received.contains { Data($0).range(of: Data(Self.marker)) != nil })
        #expect(o.answerLog.contains("DTLS-SRTP keyed") && o.callLog.contains("DTLS-SRTP keyed"), "\(o.callLog)")
        // On the wire: the DTLS handshake (content type 22, RFC 6347 §4.1) and never the payload.
        #expect(o.pcap.count > 10_000)
        #expect(o.pcap.range(of: Data(Self.marker)) == nil, "the camera's payload is on the wire in clear")
        #expect(o.callStatus == 0)
    }

    @Test func clearMediaOnlyWhenBothSidesAskForIt() throws {
        let o = try stream(extra: ["--media-security", "none"])
        #expect(o.received.count > 50, "\(o.answerLog)")
        // The same check that passes above fails here: the capture does see clear payloads.
        #expect(o.pcap.range(of: Data(Self.marker)) != nil)
        #expect(!o.answerLog.contains("DTLS"))
    }

    @Test func aPlainRTPOfferIsRefusedWithTheReason() throws {
        let r = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1"],
                        stdin: offerSDP(secure: false) + "\r\n", timeout: 10)
        #expect(r.stderr.contains("peer description rejected") && r.stderr.contains("plain RTP offer"), "\(r.stderr)")
        let noFingerprint = offerSDP().split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }.joined(separator: "\r\n")
        let r2 = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1"],
                         stdin: noFingerprint + "\r\n\r\n", timeout: 10)
        #expect(r2.stderr.contains("no a=fingerprint"), "\(r2.stderr)")
    }

    /// RFC 5763 §5: the certificate must hash to the fingerprint signaling carried. Here the
    /// home's description reaches the doorbell with one byte of its fingerprint changed: ICE
    /// connects, the handshake fails on the doorbell, and the call ends with exit 1.
    @Test func aCertificateThatIsNotTheSignaledOneFailsTheCall() throws {
        let agent = try iceAgentPath()
        let answer = Process(), call = Process()
        let toAnswer = Pipe(), fromAnswer = Pipe(), toCall = Pipe()
        let common = ["--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "8"]
        answer.executableURL = URL(fileURLWithPath: agent)
        answer.arguments = ["answer"] + common
        answer.standardInput = toAnswer
        answer.standardOutput = fromAnswer
        answer.standardError = FileHandle.nullDevice
        call.executableURL = URL(fileURLWithPath: agent)
        call.arguments = ["call"] + common
        call.standardInput = toCall
        call.standardOutput = toAnswer
        let callErr = Pipe()
        call.standardError = callErr
        try answer.run()
        try call.run()
        defer {
            for p in [answer, call] where p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
        }
        // The man in the middle: the home's lines, with its fingerprint's first hex digit changed.
        let tamper = Thread {
            let input = fromAnswer.fileHandleForReading
            while true {
                let data = input.availableData
                if data.isEmpty { break }
                var text = String(decoding: data, as: UTF8.self)
                if let r = text.range(of: "a=fingerprint:sha-256 ") {
                    let i = r.upperBound
                    let swapped: Character = text[i] == "0" ? "1" : "0"
                    text.replaceSubrange(i...i, with: String(swapped))
                }
                toCall.fileHandleForWriting.write(Data(text.utf8))
            }
        }
        tamper.start()
        call.waitUntilExit()
        let log = String(decoding: callErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("ICE completed") || log.contains("ICE connected"), "\(log)")
        #expect(log.contains("fingerprint"), "\(log)")
        #expect(!log.contains("DTLS-SRTP keyed"))
        #expect(call.terminationStatus == 1, "\(log)")
    }
}

/// The DTLS identity file (`--identity`): made once, 0600, the same certificate on every start;
/// one others may read, or one that is not a key and certificate, stops the agent with the
/// reason before any call.
@Suite struct IdentityFileTests {
    func start(_ identity: String) throws -> Finished {
        try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo", "--duration", "1",
                                     "--identity", identity], timeout: 10)
    }

    func fingerprint(_ text: String) -> String? {
        guard let r = text.range(of: "a=fingerprint:sha-256 ") else { return nil }
        return String(text[r.upperBound...].prefix(95))
    }

    @Test func madeOnceKeptPrivateAndStable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state/identity.pem").path
        let first = try start(path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try start(path)
        let a = try #require(fingerprint(first.stdout)), b = try #require(fingerprint(second.stdout))
        #expect(a == b, "the certificate changed between starts")
        #expect(second.stderr.contains("identity: \(path), a=fingerprint:sha-256 \(a)"), "\(second.stderr)")
    }

    @Test func aReadableOrCorruptFileStopsTheAgent() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("identity.pem").path
        _ = try start(path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let open = try start(path)
        #expect(open.status == 1 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        try Data("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let corrupt = try start(path)
        #expect(corrupt.status == 1 && corrupt.stderr.contains("is not usable"), "\(corrupt.stderr)")
        // Clear media needs no identity: the broken file is not even read.
        let clear = try run(try iceAgentPath(), ["answer", "--signal", "stdio", "--allow-loopback", "--interface", "lo",
                                                 "--duration", "1", "--identity", path, "--media-security", "none"], timeout: 10)
        #expect(!clear.stderr.contains("identity"), "\(clear.stderr)")
    }
}
