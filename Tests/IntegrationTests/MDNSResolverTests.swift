import Common
import Daemon
import Foundation
import MDNS
import Runtime
import TestSupport
import Testing

/// `MDNSResolver` on a real event loop against an independent responder: a Python script that
/// parses our queries with dnspython (a DNS implementation that is not ours), checks them
/// against RFC 6762 (one question, QU bit, class IN, IP TTL 255, from a port other than 5353)
/// and answers as RFC 6762 §6.7 says a responder answers a one-shot query: by unicast to the
/// query's source, repeating its id and question. The group is 224.0.0.251 on loopback and the
/// port a free one, not 5353, so no mDNS daemon of the host sees or answers the test.
@Suite(.serialized) struct MDNSResolverTests {
    static let responder = #"""
import socket, struct, sys
import dns.message, dns.rrset, dns.flags
port, known, address, multicast = int(sys.argv[1]), sys.argv[2].lower() + ".", sys.argv[3], sys.argv[4] == "multicast"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4s", socket.inet_aton("224.0.0.251"), socket.inet_aton("127.0.0.1")))
# IP_RECVTTL and IP_TTL from linux/in.h: Python does not name the first.
IP_RECVTTL, IP_TTL = getattr(socket, "IP_RECVTTL", 12), getattr(socket, "IP_TTL", 2)
s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
print("ready", flush=True)
while True:
    data, anc, _, src = s.recvmsg(9000, socket.CMSG_SPACE(4))
    ttl = [struct.unpack("i", d[:4])[0] for level, kind, d in anc if level == socket.IPPROTO_IP and kind == IP_TTL]
    q = dns.message.from_wire(data)
    if q.flags & dns.flags.QR or not q.question:
        continue  # an answer on the group, ours looped back
    question = q.question[0]
    qclass = int(question.rdclass)
    print("query id=%d flags=%d questions=%d name=%s type=%d qu=%d class=%d ttl=%s sport=%d" % (
        q.id, q.flags, len(q.question), question.name.to_text().lower(), question.rdtype,
        qclass >> 15, qclass & 0x7FFF, ttl[0] if ttl else -1, src[1]), flush=True)
    if question.name.to_text().lower() != known or question.rdtype != 1:
        continue
    # RFC 6762 §6.7: a unicast answer repeats the id and the question; §6 and §18.1: a
    # multicast one (what browsers send) carries id 0 and no question.
    r = dns.message.Message(id=0 if multicast else q.id)
    r.flags = dns.flags.QR | dns.flags.AA
    if not multicast:
        r.question = [dns.rrset.RRset(question.name, 1, 1)]
    r.answer.append(dns.rrset.from_text(question.name, 120, "IN", "A", address))
    s.sendto(r.to_wire(), ("224.0.0.251", port) if multicast else src)
"""#

    /// Drains the resolver the way a session would: its deadline includes `resultDeadline`.
    final class Owner: TimerClient {
        let resolver: MDNSResolver
        let loop: EventLoop
        var results: [MDNSResolver.Result] = []
        init(_ resolver: MDNSResolver, _ loop: EventLoop) {
            self.resolver = resolver
            self.loop = loop
        }
        var nextDeadline: Instant? { resolver.resultDeadline }
        func handleTimeout(now: Instant) {
            while let r = resolver.pollResult() { results.append(r) }
            loop.stop()
        }
    }

    func startResponder(name: String, address: String, multicast: Bool = false) throws -> (Background, UInt16) {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python),
              (try? run(python, ["-c", "import dns.message"]))?.status == 0 else {
            throw TestFailure("dnspython is missing for /usr/bin/python3: run `apt-get install python3-dnspython` (or scripts/install-deps, whose aioice needs it)")
        }
        let port = freeUDPPort()
        let responder = try Background(python, ["-c", Self.responder, "\(port)", name, address, multicast ? "multicast" : "unicast"])
        guard waitUntil(timeout: 5, { responder.output.contains("ready") }) else {
            let output = responder.output
            responder.stop()
            throw TestFailure("the responder did not start: \(output)")
        }
        return (responder, port)
    }

    func configuration(port: UInt16) -> MDNSResolution<SystemRandom>.Configuration {
        var c = MDNSResolution<SystemRandom>.Configuration()
        c.destinations = [TransportAddress(MDNSWire.groupV4, port)]
        c.giveUpAfter = .milliseconds(1500)
        return c
    }

    @Test func resolvesABrowserNameThroughAnIndependentResponder() throws {
        let name = "9b36eaac-bb2e-49bb-bb78-21c41c499900.local"
        let (responder, port) = try startResponder(name: name, address: "192.0.2.77")
        defer { responder.stop() }
        let loop = try EventLoop()
        // No group listener: the answer must come by unicast to the querying socket.
        let resolver = try MDNSResolver(loop: loop, interface: .v4Loopback, listenPort: nil, configuration: configuration(port: port))
        defer { resolver.close() }
        let owner = Owner(resolver, loop)
        loop.addTimerClient(owner)
        let start = monotonicNow()
        // The name as a browser may write it: case does not matter (RFC 6762 §16).
        try resolver.resolve(try MDNSName(name.uppercased()), now: start)
        try loop.run(until: start + .seconds(3))
        let elapsed = (monotonicNow() - start).milliseconds
        #expect(owner.results == [.resolved(try MDNSName(name), [IPAddress("192.0.2.77")!])], "\(responder.output)")
        #expect(elapsed < 1000, "answered at once, not by a retry: \(elapsed) ms")
        #expect(resolver.malformedDatagrams == 0 && resolver.sendFailures == 0)
        // What the responder saw: one A and one AAAA query, each one question with the QU bit,
        // class IN, no flags, IP TTL 255, from the resolver's ephemeral port, the same id.
        func queries() -> [Substring] { responder.output.split(separator: "\n").filter { $0.hasPrefix("query ") } }
        // The AAAA query may still be on its way to the responder when the A answer is in.
        _ = waitUntil(timeout: 2) { queries().count >= 2 }
        let sport = resolver.localAddress.port
        #expect(sport != 5353)
        let a = "flags=0 questions=1 name=\(name). type=1 qu=1 class=1 ttl=255 sport=\(sport)"
        let aaaa = "flags=0 questions=1 name=\(name). type=28 qu=1 class=1 ttl=255 sport=\(sport)"
        #expect(queries().contains { $0.hasSuffix(a) }, "\(queries())")
        #expect(queries().contains { $0.hasSuffix(aaaa) }, "\(queries())")
        let ids = Set(queries().map { $0.split(separator: " ")[1] })
        #expect(ids.count == 1, "\(queries())")
    }

    @Test func aNameNobodyAnswersFailsAfterItsRetries() throws {
        let (responder, port) = try startResponder(name: "somebody-else.local", address: "192.0.2.1")
        defer { responder.stop() }
        let loop = try EventLoop()
        let resolver = try MDNSResolver(loop: loop, interface: .v4Loopback, listenPort: port, configuration: configuration(port: port))
        defer { resolver.close() }
        let owner = Owner(resolver, loop)
        loop.addTimerClient(owner)
        let start = monotonicNow()
        let name = try MDNSName("f00d-cafe.local")
        try resolver.resolve(name, now: start)
        try loop.run(until: start + .seconds(4))
        let elapsed = (monotonicNow() - start).milliseconds
        #expect(owner.results == [.failed(name)])
        #expect(elapsed >= 1500 && elapsed < 2500, "\(elapsed) ms")
        // Three rounds (0, 250 ms, 1 s), an A and an AAAA query each.
        let queries = responder.output.split(separator: "\n").filter { $0.hasPrefix("query ") && $0.contains("name=f00d-cafe.local.") }
        #expect(queries.count == 6, "\(queries)")
    }

    @Test func resolvesWhenTheAnswerIsMulticastAsBrowsersSendIt() throws {
        let name = "3f1c2a9e-0d4b-4c55-9a8e-7b6d5c4e3f21.local"
        let (responder, port) = try startResponder(name: name, address: "192.0.2.78", multicast: true)
        defer { responder.stop() }
        let loop = try EventLoop()
        let resolver = try MDNSResolver(loop: loop, interface: .v4Loopback, listenPort: port, configuration: configuration(port: port))
        defer { resolver.close() }
        let owner = Owner(resolver, loop)
        loop.addTimerClient(owner)
        let start = monotonicNow()
        try resolver.resolve(try MDNSName(name), now: start)
        try loop.run(until: start + .seconds(3))
        #expect(owner.results == [.resolved(try MDNSName(name), [IPAddress("192.0.2.78")!])], "\(responder.output)")
        #expect((monotonicNow() - start).milliseconds < 1000)
        // Our own queries looped back to the listener are not counted as malformed.
        #expect(resolver.malformedDatagrams == 0)
    }
}
