import Foundation
import Testing
import TestSupport

/// RFC 8843 §7: a browser's offer with bundle policy "balanced" lists candidates in every
/// section, each section's for a transport of its own until the answer. The answerer's checks
/// must go to the candidates of the first section it accepts, not to those of a section it
/// rejects (here audio, without --intercom), whose transport the browser then closes.
@Suite struct BundleTransportTests {
    @Test func checksGoToTheFirstAcceptedSectionsCandidates() throws {
        let agent = try iceAgentPath()
        let rejected = bindLoopback(Int32(SOCK_DGRAM.rawValue)), accepted = bindLoopback(Int32(SOCK_DGRAM.rawValue))
        defer { close(rejected.fd); close(accepted.fd) }
        let port = freeTCPPort()
        let home = try Background(agent, ["answer", "--listen", "127.0.0.1:\(port)", "--allow-loopback", "--interface", "lo"])
        defer { home.stop() }
        #expect(waitUntil { home.output.contains("listening on http://") }, "\(home.output)")
        let fingerprint = (0..<32).map { _ in "5A" }.joined(separator: ":")
        var offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=ice-options:trickle\r\n"
        offer += "a=ice-ufrag:door\r\na=ice-pwd:doorbellpassword012345\r\n"
        offer += "a=fingerprint:sha-256 \(fingerprint)\r\na=setup:actpass\r\n"
        offer += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\na=sendrecv\r\n"
        offer += "a=rtpmap:111 opus/48000/2\r\n"
        offer += "a=candidate:1 1 udp 2122260223 127.0.0.1 \(rejected.port) typ host\r\n"
        offer += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtcp-mux\r\na=recvonly\r\n"
        offer += "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
        offer += "a=candidate:2 1 udp 2122260223 127.0.0.1 \(accepted.port) typ host\r\n"
        let created = post(port, offer)
        #expect(created.status == 201, "\(created.raw)")
        #expect(created.raw.contains("m=audio 0 "), "\(created.raw)")
        // A STUN Binding request (RFC 8489 §5: first two bits 0, type 0x0001) on each port.
        func checks(on fd: Int32) -> Int {
            setReceiveTimeout(fd, microseconds: 100_000)
            var n = 0
            var buffer = [UInt8](repeating: 0, count: 1500)
            let deadline = Date().addingTimeInterval(2)
            while Date() < deadline {
                let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if got >= 20 && buffer[0] == 0x00 && buffer[1] == 0x01 { n += 1 }
            }
            return n
        }
        #expect(checks(on: accepted.fd) > 0, "no check reached the accepted section's candidate")
        #expect(checks(on: rejected.fd) == 0, "checks went to the rejected section's candidate")
    }
}
