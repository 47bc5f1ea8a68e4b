import Common
import ICE
import Testing

@testable import SDP

/// Host candidates behind mDNS names (draft-ietf-mmusic-mdns-ice-candidates §3.1.1), as Chrome
/// and Firefox send them.
struct HostnameCandidateTests {
    @Test func browserMDNSCandidateParsesAsHostname() throws {
        let line = "candidate:842163049 1 udp 2122260223 9B36EAAC-bb2e-49bb-bb78-21c41c499900.local 54321 typ host generation 0 ufrag x"
        guard case .hostname(let h) = try CandidateLine.parseAny(Substring(line), line: 7) else {
            Issue.record("not a hostname candidate")
            return
        }
        #expect(h.name == "9b36eaac-bb2e-49bb-bb78-21c41c499900.local")
        #expect(h.line == 7 && h.port == 54321 && h.component == 1 && h.transport == .udp)
        #expect(h.priority == 2_122_260_223 && h.foundation == Foundation("842163049"))
        let c = h.resolved(to: IPAddress("192.168.1.23")!)
        #expect(c.type == .host && c.address == TransportAddress("192.168.1.23:54321")!)
        #expect(c.base == c.address && c.priority == 2_122_260_223 && c.foundation == Foundation("842163049"))
        // The resolved candidate formats and parses back as an ordinary one.
        let back = try CandidateLine.parse(Substring(CandidateLine.format(c)))
        #expect(back.address == c.address && back.priority == c.priority)
        // Its own line parses back to the same name.
        guard case .hostname(let again) = try CandidateLine.parseAny(Substring(CandidateLine.format(h))) else {
            Issue.record("format(HostnameCandidate) does not parse back")
            return
        }
        #expect(again.name == h.name && again.port == h.port && again.priority == h.priority)
    }

    @Test func onlySingleLabelLocalHostNamesAreMDNS() {
        let good = ["a.local", "abcd.LOCAL", "1b3a-4c.local", String(repeating: "a", count: 63) + ".local"]
        for n in good { #expect(HostnameCandidate.mdnsName(Substring(n)) != nil, "\(n)") }
        let bad = [".local", "local", "a.b.local", "-ab.local", "ab-.local", "a_b.local", "turn.example.net",
                   "a.localhost", "a.local.", String(repeating: "a", count: 64) + ".local", "a b.local",
                   "é.local", "a%eth0.local", "192.0.2.1"]
        for n in bad { #expect(HostnameCandidate.mdnsName(Substring(n)) == nil, "\(n)") }
    }

    @Test func namesThatAreNotMDNSStayUnresolved() {
        // RFC 8839 §5.1 FQDNs other than mDNS ones, and mDNS names on non-host candidates
        // (only host addresses are hidden, §3.1.1), keep the old typed error.
        for line in ["candidate:1 1 udp 1 turn.example.net 3478 typ relay raddr 0.0.0.0 rport 0",
                     "candidate:1 1 udp 1 abcd.local 3478 typ srflx raddr 0.0.0.0 rport 0",
                     "candidate:1 1 udp 1 abcd.local 3478 typ weird",
                     "candidate:1 1 udp 1 a.b.local 3478 typ host"] {
            #expect(throws: SDPError(.unresolvedAddress, line: 2)) { try CandidateLine.parseAny(Substring(line), line: 2) }
        }
        // `parse` still refuses every name: its callers want an address.
        #expect(throws: SDPError(.unresolvedAddress, line: 0)) { try CandidateLine.parse("candidate:1 1 udp 1 abcd.local 9 typ host") }
    }

    @Test func descriptionsAndFragmentsCollectHostnameCandidates() throws {
        let d = try SessionDescription.parse("""
            v=0
            s=-
            m=audio 9 RTP/AVP 0
            a=ice-ufrag:EsAw
            a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
            a=candidate:1 1 udp 2122260223 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 51000 typ host
            a=candidate:2 1 udp 2122260223 192.0.2.10 51001 typ host
            a=candidate:3 1 udp 2122260223 turn.example.net 3478 typ host
            m=video 9 RTP/AVP 96
            a=candidate:4 1 tcp 1518280447 f00d.local 9 typ host tcptype active

            """)
        #expect(d.media[0].hostnameCandidates.map(\.name) == ["9b36eaac-bb2e-49bb-bb78-21c41c499900.local"])
        #expect(d.media[0].hostnameCandidates.map(\.line) == [6])
        #expect(d.media[0].candidates.count == 1)
        #expect(d.media[1].hostnameCandidates.map(\.name) == ["f00d.local"] && d.media[1].hostnameCandidates[0].transport == .tcp)
        #expect(d.skippedCandidates.map(\.line) == [6, 8, 10])

        let f = try TrickleFragment.parse("""
            a=mid:0
            a=candidate:1 1 udp 2122260223 ABCD.local 51000 typ host
            a=candidate:2 1 udp 2122260223 a.b.local 51000 typ host

            """)
        #expect(f.hostnameCandidates.map(\.name) == ["abcd.local"] && f.hostnameCandidates[0].line == 2)
        #expect(f.skippedCandidates.map(\.line) == [2, 3] && f.candidates.isEmpty)
    }

    @Test func hostnameCandidatesCountTowardsTheCandidateLimit() {
        var text = "a=mid:0\n"
        for i in 0...SessionDescription.maxCandidates { text += "a=candidate:\(i) 1 udp 1 h\(i).local 9 typ host\n" }
        #expect(throws: SDPError(.tooLarge, line: SessionDescription.maxCandidates + 2)) { try TrickleFragment.parse(text) }
    }
}
