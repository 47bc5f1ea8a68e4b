import Foundation
import TestSupport
import Testing

/// Calls that survive a changing network, in real network namespaces behind kernel NATs
/// (nftables, conntrack), signaling over stdio, the home in the open: the doorbell's address
/// changing (a new DHCP lease), and its NAT forgetting the call's mapping (`conntrack -F`). The
/// doorbell restarts ICE (RFC 8445 §9) and the stream carries on.
@Suite(.serialized) struct NetworkChangeTests {
    /// The lab, the two agents cross-wired over stdio (`--duration 12`), the camera feeding the
    /// doorbell 500 RTP packets, one per 20 ms, once the call completed.
    struct Call {
        let lab: KernelInternet
        let door: KernelNATSite
        let agents: CrossWiredAgents
        let feeder: Background
        var doorLog: String { agents.log(of: agents.call) }
        var homeLog: String { agents.log(of: agents.answer) }
        var completions: Int { doorLog.components(separatedBy: "doorbell: ICE completed").count - 1 }

        func stop() {
            feeder.stop()
            agents.stop()
            lab.tearDown()
        }

        /// The RTP packets the home passed to its --rtp-out ("media: sent 0 RTP packets, received N").
        func homeReceived() -> Int {
            agents.answer.waitUntilExit()
            agents.call.waitUntilExit()
            let log = homeLog
            return log.range(of: #"received ([0-9]+)"#, options: .regularExpression).flatMap { Int(log[$0].split(separator: " ")[1]) } ?? 0
        }
    }

    func startCall(_ name: String, doorbellBehind kind: KernelNATKind) throws -> Call {
        let lab = try KernelInternet(name: name, serverAddresses: [])
        do {
            let door = try lab.addSite(kind)
            let home = try lab.addSite(.open)
            // The internet routes between sites (the lab's servers sit on its own loopback).
            try lab.exec(lab.internet, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
            // Deleting an interface's primary IPv4 address deletes its secondaries unless they
            // are promoted: a new lease must survive the old one going.
            try lab.exec(door.host, ["/bin/sh", "-c",
                                     "echo 1 > /proc/sys/net/ipv4/conf/all/promote_secondaries; echo 1 > /proc/sys/net/ipv4/conf/h0/promote_secondaries"])
            let common = ["--signal", "stdio", "--interface", "h0", "--duration", "12", "--log-level", "info"]
            let agents = try CrossWiredAgents(answer: common + ["--rtp-out", "127.0.0.1:5006"], call: common + ["--rtp-in", "127.0.0.1:5004"],
                                              answerNamespace: home.host, callNamespace: door.host)
            guard waitUntil(timeout: 10, { agents.log(of: agents.call).contains("doorbell: ICE completed") }) else {
                let logs = agents.log(of: agents.call) + "\n" + agents.log(of: agents.answer)
                agents.stop()
                throw TestFailure("the call did not complete:\n" + logs)
            }
            let feeder = try Background("/usr/sbin/ip", ["netns", "exec", door.host, "/usr/bin/python3", "-c", """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for i in range(500):
                    s.sendto(bytes([0x80, 96, i >> 8, i & 255]) + bytes(8) + bytes(100), ("127.0.0.1", 5004))
                    time.sleep(0.02)
                """])
            return Call(lab: lab, door: door, agents: agents, feeder: feeder)
        } catch {
            lab.tearDown()
            throw error
        }
    }

    /// A new DHCP lease: the rtnetlink notification makes the doorbell restart from its new
    /// address (through a new NAT mapping) and the stream resumes.
    @Test func newAddressRestartsICEAndMediaResumes() throws {
        let call = try startCall("ac", doorbellBehind: .portRestricted)
        defer { call.stop() }
        let (lab, door) = (call.lab, call.door)
        Thread.sleep(forTimeInterval: 2)
        let newAddress = "10.0.\(door.index).3"
        try lab.exec(door.host, ["ip", "addr", "add", newAddress + "/24", "dev", "h0"])
        try lab.exec(door.host, ["ip", "addr", "del", door.hostAddress + "/24", "dev", "h0"])
        let changed = Date()
        #expect(waitUntil(timeout: 8) { call.completions >= 2 }, "not completed again \(Date().timeIntervalSince(changed)) s after the change\n\(call.doorLog)\n\(call.homeLog)")
        let log = call.doorLog
        #expect(log.contains("address \(door.hostAddress) went away") && log.contains("address \(newAddress) came up"), "\(log)")
        #expect(log.contains("network changed: restarted ICE"), "\(log)")
        // The NAT maps the new address to a new external port: the pair after the restart is
        // not the one before it.
        let selections = log.split(separator: "\n").filter { $0.contains("doorbell: selected ") }.map { $0.split(separator: " ")[4] }
        #expect(selections.count >= 2 && selections.first != selections.last, "\(log)")
        #expect(call.homeLog.contains("home: ICE restart asked by the peer"), "\(call.homeLog)")
        let received = call.homeReceived()
        #expect(received > 350, "the home received \(received) of 500 RTP packets\n\(call.homeLog)")
        #expect(call.agents.call.terminationStatus == 0, "\(log)")
    }

    /// The doorbell's symmetric NAT forgets every mapping: its next consent check leaves from a
    /// new random port, the home's response names it (XOR-MAPPED-ADDRESS), and the doorbell
    /// restarts at once instead of leaving the home to lose consent 30 s later.
    @Test func flushedNATMappingRestartsICEAndMediaResumes() throws {
        _ = try requireTool("conntrack", install: "apt-get install -y conntrack")
        let call = try startCall("cf", doorbellBehind: .symmetric)
        defer { call.stop() }
        Thread.sleep(forTimeInterval: 2)
        try call.lab.exec(call.door.router, ["conntrack", "-F"])
        let flushed = Date()
        // Consent checks go every 4-6 s (RFC 7675 §5.1): the next one sees the new mapping.
        #expect(waitUntil(timeout: 9) { call.completions >= 2 }, "not completed again \(Date().timeIntervalSince(flushed)) s after the flush\n\(call.doorLog)\n\(call.homeLog)")
        let log = call.doorLog
        #expect(log.contains("the NAT rebound") && log.contains("mapping changed: restarting ICE"), "\(log)")
        #expect(call.homeLog.contains("home: ICE restart asked by the peer"), "\(call.homeLog)")
        // About 100 packets went before the flush and at most a consent period (6 s, 300
        // packets) is lost until the restart: more than 150 means the stream resumed.
        let received = call.homeReceived()
        #expect(received > 150, "the home received \(received) of 500 RTP packets\n\(call.homeLog)")
        #expect(call.agents.call.terminationStatus == 0, "\(log)")
    }
}
