import Common
import ICE
import SDP
import Testing

@Suite struct CandidateLineTests {
    @Test func parsesRFC8839Examples() throws {
        let host = try CandidateLine.parse("candidate:1 1 UDP 2130706431 203.0.113.141 8998 typ host")
        #expect(host.foundation == Foundation("1") && host.component == 1 && host.transport == .udp)
        #expect(host.priority == 2_130_706_431 && host.address == TransportAddress("203.0.113.141:8998")!)
        #expect(host.type == .host && host.relatedAddress == nil)
        let srflx = try CandidateLine.parse("a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 203.0.113.141 rport 8998")
        #expect(srflx.type == .serverReflexive && srflx.relatedAddress == TransportAddress("203.0.113.141:8998")!)
        let v6 = try CandidateLine.parse("candidate:3 2 udp 16777215 2001:db8::7 3478 typ relay raddr 2001:db8::1 rport 5000 generation 0 network-id 1")
        #expect(v6.type == .relayed && v6.component == 2 && v6.address == TransportAddress("[2001:db8::7]:3478")!)
        let tcp = try CandidateLine.parse("candidate:4 1 TCP 1518280447 192.0.2.9 9 typ host tcptype active")
        #expect(tcp.transport == .tcp)
    }

    @Test func browserCandidatesParseOrFailTyped() {
        // Chrome hides host addresses behind mDNS names: a typed error, not a crash.
        #expect(throws: SDPError(.unresolvedAddress, line: 3)) {
            try CandidateLine.parse("candidate:842163049 1 udp 1677729535 1b3a-4c.local 54321 typ host generation 0 ufrag x", line: 3)
        }
        for bad in ["candidate:1 1 UDP", "candidate:1 x UDP 1 192.0.2.1 1 typ host", "candidate:1 1 SCTP 1 192.0.2.1 1 typ host",
                    "candidate:1 1 UDP 1 192.0.2.1 99999 typ host", "candidate:1 1 UDP 1 192.0.2.1 1 typ weird",
                    "candidate:1 1 UDP 1 192.0.2.1 1 notyp host", "candidate: 1 UDP 1 192.0.2.1 1 typ host"] {
            #expect(throws: SDPError.self) { try CandidateLine.parse(Substring(bad)) }
        }
    }

    @Test func formatRoundTrips() throws {
        let c = Candidate(type: .serverReflexive, component: 1, priority: 1_694_498_815, foundation: Foundation("7"),
                          address: TransportAddress("198.51.100.4:40000")!, relatedAddress: TransportAddress("10.0.0.2:5000")!)
        let text = CandidateLine.format(c)
        #expect(text == "candidate:7 1 UDP 1694498815 198.51.100.4 40000 typ srflx raddr 10.0.0.2 rport 5000")
        let back = try CandidateLine.parse(Substring(text))
        #expect(back.address == c.address && back.priority == c.priority && back.relatedAddress == c.relatedAddress)
    }
}

@Suite struct SessionDescriptionTests {
    static let browserOffer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=extmap-allow-mixed
    a=msid-semantic: WMS stream
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:EsAw
    a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
    a=ice-options:trickle
    a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
    a=setup:actpass
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=fmtp:111 minptime=10;useinbandfec=1
    a=ssrc:1001 cname:abc
    a=candidate:1 1 udp 2113937151 192.0.2.10 51000 typ host generation 0
    a=candidate:2 1 udp 2113939711 2001:db8::10 51001 typ host generation 0
    m=video 9 UDP/TLS/RTP/SAVPF 96 97
    c=IN IP4 0.0.0.0
    a=ice-ufrag:EsAw
    a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
    a=mid:1
    a=rtcp-mux
    a=rtpmap:96 H264/90000
    a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=end-of-candidates

    """

    @Test func parsesABrowserOffer() throws {
        let d = try SessionDescription.parse(Self.browserOffer)
        #expect(d.media.count == 2)
        let audio = d.media[0]
        #expect(audio.kind == "audio" && audio.port == 9 && audio.formats == ["111", "63", "9", "0", "8"])
        #expect(audio.mid == "0" && audio.rtcpMux && audio.candidates.count == 2)
        #expect(audio.rtpmaps == ["111 opus/48000/2"])
        #expect(d.credentials(media: 0)! == ("EsAw", "P2uYro0UCOQ4zxjKXaWCBui1"))
        #expect(d.media[1].endOfCandidates && !audio.endOfCandidates)
        #expect(audio.otherAttributes.contains { $0.hasPrefix("fingerprint:") })
        #expect(audio.candidates[1].address == TransportAddress("[2001:db8::10]:51001")!)
    }

    @Test func roundTripsItsOwnOutput() throws {
        var d = SessionDescription()
        d.iceUfrag = "abcd1234"
        d.icePwd = "0123456789abcdefghijklmn"
        d.iceOptions = ["trickle", "ice2"]
        var m = MediaDescription(kind: "video", port: 40000, formats: ["96"])
        m.connectionAddress = IPAddress("198.51.100.4")
        m.mid = "0"
        m.rtcpMux = true
        m.rtpmaps = ["96 H264/90000"]
        m.candidates = [Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("1"),
                                  address: TransportAddress("10.0.0.2:40000")!)]
        m.endOfCandidates = true
        d.media = [m]
        let text = d.serialize()
        #expect(text.hasPrefix("v=0\r\n") && text.contains("\r\na=ice-options:trickle ice2\r\n"))
        let back = try SessionDescription.parse(text)
        #expect(back.iceUfrag == "abcd1234" && back.icePwd == d.icePwd && back.iceOptions == ["trickle", "ice2"])
        #expect(back.media.count == 1 && back.media[0].mid == "0" && back.media[0].rtcpMux)
        #expect(back.media[0].connectionAddress == IPAddress("198.51.100.4"))
        #expect(back.media[0].candidates.first?.address == TransportAddress("10.0.0.2:40000")!)
        #expect(back.media[0].endOfCandidates)
    }

    @Test func errorsNameTheLine() {
        #expect(throws: SDPError(.badVersion, line: 1)) { try SessionDescription.parse("v=1\n") }
        #expect(throws: SDPError(.badVersion, line: 0)) { try SessionDescription.parse("") }
        #expect(throws: SDPError(.malformedLine, line: 2)) { try SessionDescription.parse("v=0\nhello\n") }
        #expect(throws: SDPError(.badMediaLine, line: 3)) { try SessionDescription.parse("v=0\ns=-\nm=audio\n") }
        #expect(throws: SDPError(.badCandidate, line: 4)) {
            try SessionDescription.parse("v=0\ns=-\nm=audio 9 RTP/AVP 0\na=candidate:1 1 UDP\n")
        }
        #expect(throws: SDPError(.badCredentials, line: 2)) { try SessionDescription.parse("v=0\na=ice-pwd:short\n") }
        let many = "v=0\nm=audio 9 RTP/AVP 0\n" + String(repeating: "a=candidate:1 1 UDP 1 192.0.2.1 1 typ host\n", count: 200)
        #expect(throws: SDPError(.tooLarge, line: 131)) { try SessionDescription.parse(many) }
    }

    @Test func trickleFragments() throws {
        var f = TrickleFragment()
        f.iceUfrag = "abcd"
        f.icePwd = "0123456789abcdefghijklmn"
        f.mid = "0"
        f.candidates = [Candidate(type: .host, component: 1, priority: 5, foundation: Foundation("1"),
                                  address: TransportAddress("192.0.2.1:9")!)]
        f.endOfCandidates = true
        let back = try TrickleFragment.parse(f.serialize())
        #expect(back.iceUfrag == "abcd" && back.mid == "0" && back.candidates.count == 1 && back.endOfCandidates)
        // The stdio form: bare candidate and end-of-candidates lines.
        let stdio = try TrickleFragment.parse("a=candidate:1 1 UDP 5 192.0.2.1 9 typ host\na=end-of-candidates\n")
        #expect(stdio.candidates.count == 1 && stdio.endOfCandidates)
    }
}
