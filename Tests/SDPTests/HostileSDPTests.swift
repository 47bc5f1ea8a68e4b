import Common
import ICE
import SDP
import Testing

/// Descriptions as an attacker or an unusual peer writes them: a typed error or a tolerated
/// line, never a crash.
@Suite struct HostileSDPTests {
    @Test func slashWithoutNumbersIsATypedError() {
        // A bare "/" once reached `split(...)[0]` on an empty result and killed the daemon.
        #expect(throws: SDPError(.badMediaLine, line: 2)) { try SessionDescription.parse("v=0\nm=video / RTP/AVP 96\n") }
        #expect(throws: SDPError(.badMediaLine, line: 2)) { try SessionDescription.parse("v=0\nm=video /2 RTP/AVP 96\n") }
        let d = try? SessionDescription.parse("v=0\nc=IN IP4 /\nm=video 9 RTP/AVP 96\nc=IN IP4 //\n")
        #expect(d?.connectionAddress == nil && d?.media.first?.connectionAddress == nil)
        let ttl = try? SessionDescription.parse("v=0\nc=IN IP4 233.252.0.1/127\n")
        #expect(ttl?.connectionAddress == IPAddress("233.252.0.1"))
    }

    static let browserOffer = """
        v=0
        o=- 1 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0
        m=video 9 UDP/TLS/RTP/SAVPF 96
        c=IN IP4 0.0.0.0
        a=ice-ufrag:EsAw
        a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
        a=mid:0
        a=candidate:1 1 udp 2122260223 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 51000 typ host generation 0
        a=candidate:2 1 udp 2122194687 fe80::1%eth0 51001 typ host
        a=candidate:3 1 udp 1686052607 turn.example.net 3478 typ relay raddr 0.0.0.0 rport 0
        a=candidate:4 1 sctp 2122260223 192.0.2.10 5000 typ host
        a=candidate:5 1 udp 2122260223 192.0.2.10 51002 typ weird
        a=candidate:6 1 udp 1686052607 198.51.100.7 40000 typ srflx raddr 0.0.0.0 rport 0

        """

    @Test func unusableCandidatesAreSkippedNotFatal() throws {
        // RFC 8839 §5.1: a candidate the agent cannot use is ignored; the rest applies.
        let d = try SessionDescription.parse(Self.browserOffer)
        #expect(d.media[0].candidates.map(\.address) == [TransportAddress("198.51.100.7:40000")!])
        #expect(d.skippedCandidates.map(\.line) == [11, 12, 13, 14, 15])
        #expect(d.skippedCandidates[0].reason == .unresolvedAddress)
        #expect(d.skippedCandidates[3].reason == .unsupportedCandidate)
        // A candidate line that does not even parse is still an error, naming its line.
        #expect(throws: SDPError(.badCandidate, line: 4)) {
            try SessionDescription.parse("v=0\ns=-\nm=audio 9 RTP/AVP 0\na=candidate:1 1 UDP 1 192.0.2.1 port typ host\n")
        }
    }

    @Test func trickleFragmentsSkipUnusableCandidates() throws {
        let f = try TrickleFragment.parse("""
            a=ice-ufrag:EsAw
            a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
            m=video 9 UDP/TLS/RTP/SAVPF 96
            a=mid:0
            a=candidate:1 1 udp 2122260223 abcd.local 51000 typ host
            a=candidate:2 1 udp 2122260223 192.0.2.10 51000 typ host
            a=end-of-candidates

            """)
        #expect(f.candidates.count == 1 && f.skippedCandidates.map(\.line) == [5] && f.endOfCandidates)
    }

    @Test func sessionLevelEndOfCandidatesAppliesToEveryMedia() throws {
        // RFC 8840 §4.1: at session level it covers every m= section.
        let d = try SessionDescription.parse("""
            v=0
            s=-
            a=ice-ufrag:EsAw
            a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
            a=end-of-candidates
            m=audio 9 RTP/AVP 0
            m=video 9 RTP/AVP 96

            """)
        #expect(d.endOfCandidates && d.media.allSatisfy(\.endOfCandidates))
        let back = try SessionDescription.parse(d.serialize())
        #expect(back.endOfCandidates && back.media.allSatisfy(\.endOfCandidates))
    }
}

extension HostileSDPTests {
    @Test func foundationsAreICECharsOnly() {
        // A non-ASCII foundation was taken as bytes, grew when formatted and no longer parsed.
        let bad = "candidate:" + String(repeating: "é", count: 16) + " 1 UDP 1 192.0.2.1 9 typ host"
        #expect(throws: SDPError(.badCandidate, line: 0)) { try CandidateLine.parse(Substring(bad)) }
        #expect(throws: SDPError(.badCandidate, line: 0)) { try CandidateLine.parse("candidate:a-b 1 UDP 1 192.0.2.1 9 typ host") }
        let ok = try? CandidateLine.parse("candidate:Ab+/09 1 UDP 1 192.0.2.1 9 typ host")
        #expect(ok?.foundation.description == "Ab+/09")
    }
}
