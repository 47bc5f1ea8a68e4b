/// An offer as Chromium writes it for `addTransceiver("audio")`, `addTransceiver("video",
/// {direction: "recvonly"})` and a data channel: BUNDLE of three sections, rtcp-mux, actpass,
/// mDNS host candidates, VP8/H264 (several profiles and packetization modes)/AV1/VP9 each
/// with an rtx payload type, RED/ULPFEC, Opus and the G.711 static types, extmap, msid, ssrc.
enum ChromiumFixture {
    static let offer = """
        v=0
        o=- 3148517920117612345 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS
        m=audio 51472 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 192.0.2.44
        a=rtcp:9 IN IP4 0.0.0.0
        a=candidate:2437072876 1 udp 2122260223 8f1e5c3a-2b7d-4a4e-9c61-0d3b5e7f9a12.local 51472 typ host generation 0 network-id 1 network-cost 10
        a=candidate:1876313031 1 udp 1686052607 192.0.2.44 51472 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10
        a=ice-ufrag:Kq7v
        a=ice-pwd:x2Q9bVn6sGd3L0pYh8TzRw4M
        a=ice-options:trickle
        a=fingerprint:sha-256 3B:9C:55:A1:0E:7D:42:F6:18:C4:9B:2E:63:D7:A0:51:8F:E2:34:C9:06:7B:DA:11:5E:F3:84:29:C0:6A:B7:1D
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:- 2c9f5e1a-7b3d-4c8e-a6f0-1d2e3f4a5b6c
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:63 red/48000/2
        a=fmtp:63 111/111
        a=rtpmap:9 G722/8000
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:13 CN/8000
        a=rtpmap:110 telephone-event/48000
        a=rtpmap:126 telephone-event/8000
        a=ssrc:3735928559 cname:Zx1Yw2Vu3Ts4Rq5P
        a=ssrc:3735928559 msid:- 2c9f5e1a-7b3d-4c8e-a6f0-1d2e3f4a5b6c
        m=video 51472 UDP/TLS/RTP/SAVPF 96 97 103 104 107 108 109 114 115 116 117 118 39 40 45 46 98 99 100 101 119 120 123 124 125
        c=IN IP4 192.0.2.44
        a=rtcp:9 IN IP4 0.0.0.0
        a=candidate:2437072876 1 udp 2122260223 8f1e5c3a-2b7d-4a4e-9c61-0d3b5e7f9a12.local 51472 typ host generation 0 network-id 1 network-cost 10
        a=candidate:1876313031 1 udp 1686052607 192.0.2.44 51472 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10
        a=ice-ufrag:Kq7v
        a=ice-pwd:x2Q9bVn6sGd3L0pYh8TzRw4M
        a=ice-options:trickle
        a=fingerprint:sha-256 3B:9C:55:A1:0E:7D:42:F6:18:C4:9B:2E:63:D7:A0:51:8F:E2:34:C9:06:7B:DA:11:5E:F3:84:29:C0:6A:B7:1D
        a=setup:actpass
        a=mid:1
        a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:13 urn:3gpp:video-orientation
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=recvonly
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:103 H264/90000
        a=rtcp-fb:103 goog-remb
        a=rtcp-fb:103 transport-cc
        a=rtcp-fb:103 ccm fir
        a=rtcp-fb:103 nack
        a=rtcp-fb:103 nack pli
        a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:104 rtx/90000
        a=fmtp:104 apt=103
        a=rtpmap:107 H264/90000
        a=rtcp-fb:107 goog-remb
        a=rtcp-fb:107 transport-cc
        a=rtcp-fb:107 ccm fir
        a=rtcp-fb:107 nack
        a=rtcp-fb:107 nack pli
        a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
        a=rtpmap:108 rtx/90000
        a=fmtp:108 apt=107
        a=rtpmap:109 H264/90000
        a=rtcp-fb:109 goog-remb
        a=rtcp-fb:109 transport-cc
        a=rtcp-fb:109 ccm fir
        a=rtcp-fb:109 nack
        a=rtcp-fb:109 nack pli
        a=fmtp:109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:114 rtx/90000
        a=fmtp:114 apt=109
        a=rtpmap:115 H264/90000
        a=rtcp-fb:115 goog-remb
        a=rtcp-fb:115 transport-cc
        a=rtcp-fb:115 ccm fir
        a=rtcp-fb:115 nack
        a=rtcp-fb:115 nack pli
        a=fmtp:115 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
        a=rtpmap:116 rtx/90000
        a=fmtp:116 apt=115
        a=rtpmap:117 H264/90000
        a=rtcp-fb:117 goog-remb
        a=rtcp-fb:117 transport-cc
        a=rtcp-fb:117 ccm fir
        a=rtcp-fb:117 nack
        a=rtcp-fb:117 nack pli
        a=fmtp:117 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f
        a=rtpmap:118 rtx/90000
        a=fmtp:118 apt=117
        a=rtpmap:39 AV1/90000
        a=rtcp-fb:39 goog-remb
        a=rtcp-fb:39 transport-cc
        a=rtcp-fb:39 ccm fir
        a=rtcp-fb:39 nack
        a=rtcp-fb:39 nack pli
        a=fmtp:39 level-idx=5;profile=0;tier=0
        a=rtpmap:40 rtx/90000
        a=fmtp:40 apt=39
        a=rtpmap:45 AV1/90000
        a=rtcp-fb:45 goog-remb
        a=rtcp-fb:45 transport-cc
        a=rtcp-fb:45 ccm fir
        a=rtcp-fb:45 nack
        a=rtcp-fb:45 nack pli
        a=fmtp:45 level-idx=5;profile=1;tier=0
        a=rtpmap:46 rtx/90000
        a=fmtp:46 apt=45
        a=rtpmap:98 VP9/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rtpmap:100 VP9/90000
        a=rtcp-fb:100 goog-remb
        a=rtcp-fb:100 transport-cc
        a=rtcp-fb:100 ccm fir
        a=rtcp-fb:100 nack
        a=rtcp-fb:100 nack pli
        a=fmtp:100 profile-id=2
        a=rtpmap:101 rtx/90000
        a=fmtp:101 apt=100
        a=rtpmap:119 H264/90000
        a=rtcp-fb:119 goog-remb
        a=rtcp-fb:119 transport-cc
        a=rtcp-fb:119 ccm fir
        a=rtcp-fb:119 nack
        a=rtcp-fb:119 nack pli
        a=fmtp:119 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f
        a=rtpmap:120 rtx/90000
        a=fmtp:120 apt=119
        a=rtpmap:123 red/90000
        a=rtpmap:124 rtx/90000
        a=fmtp:124 apt=123
        a=rtpmap:125 ulpfec/90000
        m=application 51472 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 192.0.2.44
        a=candidate:2437072876 1 udp 2122260223 8f1e5c3a-2b7d-4a4e-9c61-0d3b5e7f9a12.local 51472 typ host generation 0 network-id 1 network-cost 10
        a=candidate:1876313031 1 udp 1686052607 192.0.2.44 51472 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10
        a=ice-ufrag:Kq7v
        a=ice-pwd:x2Q9bVn6sGd3L0pYh8TzRw4M
        a=ice-options:trickle
        a=fingerprint:sha-256 3B:9C:55:A1:0E:7D:42:F6:18:C4:9B:2E:63:D7:A0:51:8F:E2:34:C9:06:7B:DA:11:5E:F3:84:29:C0:6A:B7:1D
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144

        """
}

extension ChromiumFixture {
    /// Captured from Chromium 156.0.8078.114 (headless, Debian 12) for the same three
    /// transceivers, before gathering (no candidates yet): its H264 42e01f in packetization
    /// mode 1 is payload type 108 here, and H265 and more AV1 profiles are listed.
    static let captured156Offer = """
        v=0
        o=- 4783472814484977061 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:ZUyZ
        a=ice-pwd:gWz0ftnY99DjlHd0Ha7Am59r
        a=ice-options:trickle
        a=fingerprint:sha-256 C3:3D:4A:9E:71:E5:85:01:58:7D:85:73:6F:E2:54:85:17:26:FA:99:C5:25:35:1E:31:D1:86:07:54:0C:B0:A6
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:- a6cac00d-4ece-4bd0-a95e-53de942e8589
        a=rtcp-mux
        a=rtcp-rsize
        a=rtcp-xr:rcvr-rtt=all
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:63 red/48000/2
        a=fmtp:63 111/111
        a=rtpmap:9 G722/8000
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:13 CN/8000
        a=rtpmap:110 telephone-event/48000
        a=rtpmap:126 telephone-event/8000
        a=ssrc:1288927810 cname:d97be5elKAXsbQhL
        a=ssrc:1288927810 msid:- a6cac00d-4ece-4bd0-a95e-53de942e8589
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 116 117 39 40 41 42 43 44 45 46 47 48 118 119 120 49
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:ZUyZ
        a=ice-pwd:gWz0ftnY99DjlHd0Ha7Am59r
        a=ice-options:trickle
        a=fingerprint:sha-256 C3:3D:4A:9E:71:E5:85:01:58:7D:85:73:6F:E2:54:85:17:26:FA:99:C5:25:35:1E:31:D1:86:07:54:0C:B0:A6
        a=setup:actpass
        a=mid:1
        a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:13 urn:3gpp:video-orientation
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
        a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
        a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=recvonly
        a=rtcp-mux
        a=rtcp-rsize
        a=rtcp-xr:rcvr-rtt=all
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:98 VP9/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rtpmap:100 VP9/90000
        a=rtcp-fb:100 goog-remb
        a=rtcp-fb:100 transport-cc
        a=rtcp-fb:100 ccm fir
        a=rtcp-fb:100 nack
        a=rtcp-fb:100 nack pli
        a=fmtp:100 profile-id=2
        a=rtpmap:101 rtx/90000
        a=fmtp:101 apt=100
        a=rtpmap:35 VP9/90000
        a=rtcp-fb:35 goog-remb
        a=rtcp-fb:35 transport-cc
        a=rtcp-fb:35 ccm fir
        a=rtcp-fb:35 nack
        a=rtcp-fb:35 nack pli
        a=fmtp:35 profile-id=1
        a=rtpmap:36 rtx/90000
        a=fmtp:36 apt=35
        a=rtpmap:37 VP9/90000
        a=rtcp-fb:37 goog-remb
        a=rtcp-fb:37 transport-cc
        a=rtcp-fb:37 ccm fir
        a=rtcp-fb:37 nack
        a=rtcp-fb:37 nack pli
        a=fmtp:37 profile-id=3
        a=rtpmap:38 rtx/90000
        a=fmtp:38 apt=37
        a=rtpmap:102 H264/90000
        a=rtcp-fb:102 goog-remb
        a=rtcp-fb:102 transport-cc
        a=rtcp-fb:102 ccm fir
        a=rtcp-fb:102 nack
        a=rtcp-fb:102 nack pli
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:103 rtx/90000
        a=fmtp:103 apt=102
        a=rtpmap:104 H264/90000
        a=rtcp-fb:104 goog-remb
        a=rtcp-fb:104 transport-cc
        a=rtcp-fb:104 ccm fir
        a=rtcp-fb:104 nack
        a=rtcp-fb:104 nack pli
        a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=104
        a=rtpmap:108 H264/90000
        a=rtcp-fb:108 goog-remb
        a=rtcp-fb:108 transport-cc
        a=rtcp-fb:108 ccm fir
        a=rtcp-fb:108 nack
        a=rtcp-fb:108 nack pli
        a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:109 rtx/90000
        a=fmtp:109 apt=108
        a=rtpmap:114 H264/90000
        a=rtcp-fb:114 goog-remb
        a=rtcp-fb:114 transport-cc
        a=rtcp-fb:114 ccm fir
        a=rtcp-fb:114 nack
        a=rtcp-fb:114 nack pli
        a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
        a=rtpmap:115 rtx/90000
        a=fmtp:115 apt=114
        a=rtpmap:116 H264/90000
        a=rtcp-fb:116 goog-remb
        a=rtcp-fb:116 transport-cc
        a=rtcp-fb:116 ccm fir
        a=rtcp-fb:116 nack
        a=rtcp-fb:116 nack pli
        a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
        a=rtpmap:117 rtx/90000
        a=fmtp:117 apt=116
        a=rtpmap:39 H264/90000
        a=rtcp-fb:39 goog-remb
        a=rtcp-fb:39 transport-cc
        a=rtcp-fb:39 ccm fir
        a=rtcp-fb:39 nack
        a=rtcp-fb:39 nack pli
        a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
        a=rtpmap:40 rtx/90000
        a=fmtp:40 apt=39
        a=rtpmap:41 H264/90000
        a=rtcp-fb:41 goog-remb
        a=rtcp-fb:41 transport-cc
        a=rtcp-fb:41 ccm fir
        a=rtcp-fb:41 nack
        a=rtcp-fb:41 nack pli
        a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f
        a=rtpmap:42 rtx/90000
        a=fmtp:42 apt=41
        a=rtpmap:43 H264/90000
        a=rtcp-fb:43 goog-remb
        a=rtcp-fb:43 transport-cc
        a=rtcp-fb:43 ccm fir
        a=rtcp-fb:43 nack
        a=rtcp-fb:43 nack pli
        a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f
        a=rtpmap:44 rtx/90000
        a=fmtp:44 apt=43
        a=rtpmap:45 AV1/90000
        a=rtcp-fb:45 goog-remb
        a=rtcp-fb:45 transport-cc
        a=rtcp-fb:45 ccm fir
        a=rtcp-fb:45 nack
        a=rtcp-fb:45 nack pli
        a=fmtp:45 level-idx=5;profile=0;tier=0
        a=rtpmap:46 rtx/90000
        a=fmtp:46 apt=45
        a=rtpmap:47 AV1/90000
        a=rtcp-fb:47 goog-remb
        a=rtcp-fb:47 transport-cc
        a=rtcp-fb:47 ccm fir
        a=rtcp-fb:47 nack
        a=rtcp-fb:47 nack pli
        a=fmtp:47 level-idx=5;profile=1;tier=0
        a=rtpmap:48 rtx/90000
        a=fmtp:48 apt=47
        a=rtpmap:118 red/90000
        a=rtpmap:119 rtx/90000
        a=fmtp:119 apt=118
        a=rtpmap:120 ulpfec/90000
        a=rtpmap:49 flexfec-03/90000
        a=rtcp-fb:49 goog-remb
        a=rtcp-fb:49 transport-cc
        a=fmtp:49 repair-window=10000000
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:ZUyZ
        a=ice-pwd:gWz0ftnY99DjlHd0Ha7Am59r
        a=ice-options:trickle
        a=fingerprint:sha-256 C3:3D:4A:9E:71:E5:85:01:58:7D:85:73:6F:E2:54:85:17:26:FA:99:C5:25:35:1E:31:D1:86:07:54:0C:B0:A6
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144

        """

    /// Chromium 156's answer to `Negotiation.offer` for an H264 camera (sendonly, PT 96) and
    /// an Opus intercom (sendrecv, PT 111), from a page with no tracks of its own.
    static let captured156Answer = """
        v=0
        o=- 176024750881773434 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=msid-semantic: WMS
        m=video 9 UDP/TLS/RTP/SAVPF 96
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:3jCT
        a=ice-pwd:yPe1BmBYio04WJp7/7ewwAoi
        a=ice-options:trickle
        a=fingerprint:sha-256 1E:A4:1C:6A:85:AE:24:5C:76:3F:7B:87:06:1A:2E:3D:EB:D6:9A:5C:B7:81:F6:FA:C0:20:80:DC:46:C6:AB:E5
        a=setup:active
        a=mid:0
        a=recvonly
        a=rtcp-mux
        a=rtpmap:96 H264/90000
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        m=audio 9 UDP/TLS/RTP/SAVPF 111
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:3jCT
        a=ice-pwd:yPe1BmBYio04WJp7/7ewwAoi
        a=ice-options:trickle
        a=fingerprint:sha-256 1E:A4:1C:6A:85:AE:24:5C:76:3F:7B:87:06:1A:2E:3D:EB:D6:9A:5C:B7:81:F6:FA:C0:20:80:DC:46:C6:AB:E5
        a=setup:active
        a=mid:1
        a=recvonly
        a=rtcp-mux
        a=rtpmap:111 opus/48000/2
        a=fmtp:111 minptime=10;useinbandfec=1

        """
}
