import Foundation
import TestSupport
import Testing

/// A call that survives its doorbell's address changing (DHCP handing out a new lease): real
/// network namespaces, the doorbell behind a port-restricted kernel NAT, the home in the open,
/// signaling over stdio. The kernel's rtnetlink notification makes the doorbell restart ICE
/// (RFC 8445 §9) from its new address, and the stream carries on.
@Suite(.serialized) struct AddressChangeTests {
    @Test func newAddressRestartsICEAndMediaResumes() throws {
        let lab = try KernelInternet(name: "ac", serverAddresses: [])
        defer { lab.tearDown() }
        let door = try lab.addSite(.portRestricted)
        let home = try lab.addSite(.open)
        // The internet routes between sites (the lab's servers sit on its own loopback and
        // need no forwarding).
        try lab.exec(lab.internet, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
        // Deleting an interface's primary IPv4 address deletes its secondaries unless they are
        // promoted: the new lease must survive the old one going.
        try lab.exec(door.host, ["/bin/sh", "-c",
                                 "echo 1 > /proc/sys/net/ipv4/conf/all/promote_secondaries; echo 1 > /proc/sys/net/ipv4/conf/h0/promote_secondaries"])
        let common = ["--signal", "stdio", "--interface", "h0", "--duration", "12", "--log-level", "info"]
        let agents = try CrossWiredAgents(answer: common + ["--rtp-out", "127.0.0.1:5006"], call: common + ["--rtp-in", "127.0.0.1:5004"],
                                          answerNamespace: home.host, callNamespace: door.host)
        defer { agents.stop() }
        let doorLog = { agents.log(of: agents.call) }, homeLog = { agents.log(of: agents.answer) }
        #expect(waitUntil(timeout: 10) { doorLog().contains("doorbell: ICE completed") }, "\(doorLog())\n\(homeLog())")
        // The camera: 500 RTP packets, one per 20 ms, into the doorbell's --rtp-in.
        let feeder = try Background("/usr/sbin/ip", ["netns", "exec", door.host, "/usr/bin/python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(500):
                s.sendto(bytes([0x80, 96, i >> 8, i & 255]) + bytes(8) + bytes(100), ("127.0.0.1", 5004))
                time.sleep(0.02)
            """])
        defer { feeder.stop() }
        Thread.sleep(forTimeInterval: 2)
        let newAddress = "10.0.\(door.index).3"
        try lab.exec(door.host, ["ip", "addr", "add", newAddress + "/24", "dev", "h0"])
        try lab.exec(door.host, ["ip", "addr", "del", door.hostAddress + "/24", "dev", "h0"])
        let changed = Date()
        let completions = { doorLog().components(separatedBy: "doorbell: ICE completed").count - 1 }
        #expect(waitUntil(timeout: 8) { completions() >= 2 }, "\(doorLog())\n\(homeLog())")
        let recovered = Date().timeIntervalSince(changed)
        #expect(completions() >= 2, "not completed again \(recovered) s after the address change")
        let log = doorLog()
        #expect(log.contains("address \(door.hostAddress) went away") && log.contains("address \(newAddress) came up"), "\(log)")
        #expect(log.contains("network changed: restarted ICE"), "\(log)")
        // The NAT maps the new address to a new external port: the pair after the restart is
        // not the one before it.
        let selections = log.split(separator: "\n").filter { $0.contains("doorbell: selected ") }.map { $0.split(separator: " ")[4] }
        #expect(selections.count >= 2 && selections.first != selections.last, "\(log)")
        #expect(homeLog().contains("home: ICE restart asked by the peer"), "\(homeLog())")
        agents.answer.waitUntilExit()
        agents.call.waitUntilExit()
        // "media: sent 0 RTP packets, received N": most of the 500 arrived, so media resumed.
        let final = homeLog()
        let received = final.range(of: #"received ([0-9]+)"#, options: .regularExpression).flatMap { r in
            Int(final[r].split(separator: " ")[1])
        } ?? 0
        #expect(received > 350, "the home received \(received) of 500 RTP packets\n\(final)")
        #expect(agents.call.terminationStatus == 0, "\(log)")
    }
}
