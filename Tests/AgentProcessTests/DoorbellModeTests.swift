import Foundation
import TestSupport
import Testing

/// `call URL --on-button`: the doorbell idles, each press (SIGUSR1 here; the board's button in
/// the QEMU system test) places one call, the call ends after --call-seconds, and the next press
/// places another with nothing left over from the first.
@Suite(.serialized) struct DoorbellModeTests {
    /// `answer --listen` on loopback at `port`, once it listens.
    func startHome(port: UInt16) throws -> Background {
        let home = try Background(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback",
                                                       "--interface", "lo", "--duration", "40"])
        #expect(waitUntil { home.output.contains("listening on http://") }, "\(home.output)")
        return home
    }

    @Test func eachPressPlacesOneCallAndReleasesItAfterwards() throws {
        let port = freeTCPPort()
        let home = try startHome(port: port)
        defer { home.stop() }
        let doorbell = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--on-button",
                                                           "--call-seconds", "2", "--allow-loopback", "--interface", "lo",
                                                           "--duration", "40"])
        defer { doorbell.stop() }
        let pid = doorbell.process.processIdentifier
        #expect(waitUntil { doorbell.output.contains("doorbell: waiting for the button") }, "\(doorbell.output)")
        // Idle: no call is placed without a press.
        usleep(500_000)
        #expect(!home.output.contains("session 1"), "\(home.output)")
        let idleDescriptors = openDescriptors(pid)

        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("doorbell: ICE completed") }, "\(doorbell.output)")
        // A press during the call does not place a second one.
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("pressed during call 1: ignored") }, "\(doorbell.output)")
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 1 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        #expect(waitUntil(timeout: 10) { home.output.contains("session 1 deleted") }, "\(home.output)")
        // Everything the call held is released: sockets, signaling connections (the DELETE's
        // connection closes once its answer is read, on the loop).
        #expect(waitUntil(timeout: 5) { openDescriptors(pid) == idleDescriptors }, "\(doorbell.output)")

        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 2 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        #expect(waitUntil(timeout: 10) { home.output.contains("session 2 deleted") }, "\(home.output)")
        #expect(waitUntil(timeout: 5) { openDescriptors(pid) == idleDescriptors }, "\(doorbell.output)")
        #expect(!doorbell.output.contains("signaling: DELETE:"), "\(doorbell.output)")
        #expect(doorbell.process.isRunning)
    }

    /// The next press right after a call ends binds the same --rtp-in port again, even while the
    /// last call's DELETE still waits for a slow home (up to 5 s): the ended call's sockets
    /// must be closed when it ends, not when its last reference goes.
    @Test func aPressRightAfterACallRebindsTheSameRTPInPort() throws {
        let port = freeTCPPort(), rtpIn = freeUDPPort()
        let home = try Background(try iceAgentPath(), ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback",
                                                       "--interface", "lo", "--duration", "40"])
        let homePID = home.process.processIdentifier
        defer {
            kill(homePID, SIGCONT)
            home.stop()
        }
        #expect(waitUntil { home.output.contains("listening on http://") }, "\(home.output)")
        let doorbell = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--on-button",
                                                           "--call-seconds", "2", "--rtp-in", "127.0.0.1:\(rtpIn)",
                                                           "--allow-loopback", "--interface", "lo", "--duration", "40"])
        defer { doorbell.stop() }
        let pid = doorbell.process.processIdentifier
        #expect(waitUntil { doorbell.output.contains("doorbell: waiting for the button") }, "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("doorbell: ICE completed") }, "\(doorbell.output)")
        // The home stalls (its kernel still accepts connections): the DELETE waits for an answer.
        kill(homePID, SIGSTOP)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 1 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 5) { doorbell.output.contains("placing call 2") }, "\(doorbell.output)")
        usleep(300_000)
        kill(homePID, SIGCONT)
        #expect(!doorbell.output.contains("cannot bind media port"), "\(doorbell.output)")
        #expect(waitUntil(timeout: 15) { doorbell.output.contains("call 2 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        #expect(!doorbell.output.contains("cannot bind media port"), "\(doorbell.output)")
        #expect(doorbell.process.isRunning)
    }

    /// No home: the call fails, the daemon stays up and the next press tries again.
    @Test func aRefusedCallEndsAndTheDoorbellWaitsForTheNextPress() throws {
        let port = freeTCPPort()  // nothing listens
        let doorbell = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--on-button",
                                                           "--allow-loopback", "--interface", "lo", "--duration", "30"])
        defer { doorbell.stop() }
        let pid = doorbell.process.processIdentifier
        #expect(waitUntil { doorbell.output.contains("doorbell: waiting for the button") }, "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 1 ended (the home did not take the call); connected: no") },
                "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 2 ended") }, "\(doorbell.output)")
        #expect(doorbell.process.isRunning)
    }

    /// The DTLS identity is made after the doorbell says it is ready (key generation is the
    /// slowest part of start-up on a small board whose state does not survive reboots), once:
    /// every call of the process presents the same certificate, and it is stored for the next start.
    @Test func theIdentityIsMadeOnceAfterReady() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doorbell-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let identity = dir.appendingPathComponent("state/identity.pem").path
        let port = freeTCPPort()
        let home = try startHome(port: port)
        defer { home.stop() }
        let doorbell = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(port)/whip", "--on-button",
                                                           "--call-seconds", "1", "--allow-loopback", "--interface", "lo",
                                                           "--identity", identity, "--duration", "40"])
        defer { doorbell.stop() }
        let pid = doorbell.process.processIdentifier
        #expect(waitUntil { doorbell.output.contains("doorbell: waiting for the button") }, "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 1 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil(timeout: 10) { doorbell.output.contains("call 2 ended (call length reached); connected: yes") },
                "\(doorbell.output)")
        let log = doorbell.output
        let ready = try #require(log.range(of: "doorbell: waiting for the button"))
        let made = try #require(log.range(of: "identity: " + identity + ", a=fingerprint:sha-256 "), "\(log)")
        #expect(ready.upperBound <= made.lowerBound, "the identity was made before the doorbell was ready: \(log)")
        #expect(log.components(separatedBy: "identity: ").count == 2, "one identity for the process: \(log)")
        #expect(log.components(separatedBy: "media: DTLS-SRTP keyed").count == 3, "\(log)")
        #expect(FileManager.default.fileExists(atPath: identity))
    }

    /// An identity file that is not a key and certificate stops the doorbell (exit 1) with the
    /// reason, and no call is placed with it.
    @Test func aCorruptIdentityStopsTheDoorbell() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doorbell-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let identity = dir.appendingPathComponent("identity.pem").path
        try Data("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: identity))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: identity)
        let r = try run(try iceAgentPath(), ["call", "http://127.0.0.1:\(freeTCPPort())/whip", "--on-button", "--allow-loopback",
                                             "--interface", "lo", "--identity", identity, "--duration", "10"], timeout: 15)
        #expect(r.status == 1 && r.stderr.contains("is not usable"), "\(r.stderr)")
        #expect(!r.stderr.contains("placing call"), "\(r.stderr)")
    }

    /// A press that finds no address on the call's interfaces (the network still coming up
    /// at boot) waits for one instead of placing a call that cannot gather; presses meanwhile
    /// are ignored.
    @Test func aPressWithoutAnAddressWaitsForOne() throws {
        let doorbell = try Background(try iceAgentPath(), ["call", "http://127.0.0.1:\(freeTCPPort())/whip", "--on-button",
                                                           "--interface", "nosuch0", "--media-security", "none",
                                                           "--duration", "20"])
        defer { doorbell.stop() }
        let pid = doorbell.process.processIdentifier
        #expect(waitUntil { doorbell.output.contains("doorbell: waiting for the button") }, "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil { doorbell.output.contains("doorbell: press: no address yet; the call waits for one") },
                "\(doorbell.output)")
        kill(pid, SIGUSR1)
        #expect(waitUntil { doorbell.output.contains("pressed while the call waits for an address: ignored") },
                "\(doorbell.output)")
        usleep(500_000)
        #expect(!doorbell.output.contains("placing call"), "\(doorbell.output)")
        #expect(doorbell.process.isRunning)
    }

    @Test func onButtonNeedsAnHTTPCall() throws {
        let r = try run(try iceAgentPath(), ["call", "--signal", "stdio", "--on-button"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--on-button is for call with an http:// URL"), "\(r.stderr)")
    }
}
