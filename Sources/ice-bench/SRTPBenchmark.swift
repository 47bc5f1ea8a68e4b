import AllocationCounter
import Common
import CSRTP
import SRTP

// `ice-bench srtp`: SRTP and SRTCP per packet, both DTLS-SRTP profiles (RFC 5764 §4.1.2,
// RFC 7714 §14.2), in place, after the stream exists.

/// Two ends of one association, keyed from the same made-up exporter output.
func makeSRTPPair(_ profile: SRTPProfile) -> (sender: SRTPSession, receiver: SRTPSession) {
    let material = (0..<profile.keyingMaterialLength).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
    return material.withUnsafeBytes { raw in
        (try! SRTPSession(profile: profile, keyingMaterial: raw, localIsClient: true),
         try! SRTPSession(profile: profile, keyingMaterial: raw, localIsClient: false))
    }
}

/// A packet buffer with room for the tag: an RTP packet of `length` bytes (RFC 3550 §5.1,
/// SSRC 0x0DB1_0001) or an RTCP receiver report with one block (§6.4.2).
struct SRTPBenchPacket {
    var bytes: [UInt8]
    let length: Int
    var sequence: UInt16 = 0

    init(rtpLength: Int) {
        length = rtpLength
        bytes = [UInt8](repeating: 0, count: rtpLength + 64)
        bytes.replaceSubrange(0..<12, with: [0x80, 96, 0, 0, 0, 0, 0, 0, 0x0D, 0xB1, 0, 1])
        for i in 12..<rtpLength { bytes[i] = UInt8(truncatingIfNeeded: i) }
    }

    init(rtcpReport: ()) {
        length = 32
        bytes = [UInt8](repeating: 0, count: 32 + 64)
        bytes.replaceSubrange(0..<8, with: [0x81, 201, 0, 7, 0x0D, 0xB1, 0, 1])
    }

    /// The next sequence number, so that the receiver's replay check passes (RFC 3711 §3.3.2).
    mutating func next() {
        sequence &+= 1
        bytes[2] = UInt8(sequence >> 8)
        bytes[3] = UInt8(sequence & 0xFF)
    }
}

/// Protects (and with `unprotect`, unprotects) one packet; traps on any error, which a
/// benchmark of matched sessions never sees.
@inline(__always)
func srtpRoundTrip(_ pair: (sender: SRTPSession, receiver: SRTPSession), _ p: inout SRTPBenchPacket, rtcp: Bool,
                   unprotect: Bool) {
    let length = p.length
    p.bytes.withUnsafeMutableBytes { raw in
        do throws(SRTPError) {
            let sealed = rtcp ? try pair.sender.protectRTCP(raw, length: length) : try pair.sender.protectRTP(raw, length: length)
            guard unprotect else { return }
            let opened = rtcp ? try pair.receiver.unprotectRTCP(raw, length: sealed) : try pair.receiver.unprotectRTP(raw, length: sealed)
            if opened != length { fatalError("srtp: length changed") }
        } catch {
            fatalError("srtp: \(error)")
        }
    }
}

func srtpProfileLabel(_ profile: SRTPProfile) -> String {
    switch profile {
    case .aes128CmHmacSha1_80: return "aes-cm-hmac-sha1-80"
    case .aeadAes128Gcm: return "aead-aes-128-gcm"
    }
}

func runSRTPBenchmark(iterations: Int) {
    print("packets: RTP 1200 bytes (12-byte header), RTCP receiver report 32 bytes; unprotect = protect+unprotect - protect")
    for profile in SRTPProfile.allCases {
        let label = srtpProfileLabel(profile)
        for rtcp in [false, true] {
            let name = (rtcp ? "srtcp-" : "srtp-") + label
            let pair = makeSRTPPair(profile)
            var p = rtcp ? SRTPBenchPacket(rtcpReport: ()) : SRTPBenchPacket(rtpLength: 1200)
            let protect = measure(name + "-protect", iterations: iterations) {
                p.next()
                srtpRoundTrip(pair, &p, rtcp: rtcp, unprotect: false)
            }
            // A fresh pair: the receiver must see every index once, in order.
            let fresh = makeSRTPPair(profile)
            var q = rtcp ? SRTPBenchPacket(rtcpReport: ()) : SRTPBenchPacket(rtpLength: 1200)
            let both = measure(name + "-protect+unprotect", iterations: iterations) {
                q.next()
                srtpRoundTrip(fresh, &q, rtcp: rtcp, unprotect: true)
            }
            print("\(name)-unprotect: \(format(max(0, both.nsPerOp - protect.nsPerOp))) ns/op (derived)")
        }
    }
}

/// Allocations in `packets` RTP protect+unprotect round trips (and one RTCP round trip per
/// 100), after each session's first packet, which creates libsrtp's stream for the SSRC:
/// through `SRTPSession` and through libsrtp's own calls on the same packets. The second is
/// the crypto backend's share (Debian's host libsrtp2 uses NSS, which creates a context per
/// packet; the device's is built on mbedTLS), so the difference is what SRTPSession adds.
func srtpSteadyStateAllocations(_ profile: SRTPProfile, packets: Int) -> (session: Int, library: Int) {
    let pair = makeSRTPPair(profile)
    var p = SRTPBenchPacket(rtpLength: 1200)
    var r = SRTPBenchPacket(rtcpReport: ())
    func roundTrip(_ i: Int) {
        p.next()
        srtpRoundTrip(pair, &p, rtcp: false, unprotect: true)
        if i % 100 == 0 { srtpRoundTrip(pair, &r, rtcp: true, unprotect: true) }
    }
    roundTrip(0)
    var a0 = allocationCount
    for i in 1...packets { roundTrip(i) }
    let session = allocationCount - a0

    let raw = RawSRTPPair(profile)
    var q = SRTPBenchPacket(rtpLength: 1200)
    var s = SRTPBenchPacket(rtcpReport: ())
    func rawRoundTrip(_ i: Int) {
        q.next()
        raw.roundTrip(&q, rtcp: false)
        if i % 100 == 0 { raw.roundTrip(&s, rtcp: true) }
    }
    rawRoundTrip(0)
    a0 = allocationCount
    for i in 1...packets { rawRoundTrip(i) }
    return (session, allocationCount - a0)
}

/// libsrtp without SRTPSession: the same policies (RFC 3711 §5 defaults, RFC 7714 §14.2) and
/// master keys, for the baseline of what the library itself allocates per packet.
final class RawSRTPPair {
    var sender: srtp_t? = nil
    var receiver: srtp_t? = nil

    init(_ profile: SRTPProfile) {
        var key = [UInt8](repeating: 0x42, count: profile.keyLength + profile.saltLength)
        for (type, slot) in [(ssrc_any_outbound, 0), (ssrc_any_inbound, 1)] {
            var policy = srtp_policy_t()
            switch profile {
            case .aes128CmHmacSha1_80:
                srtp_crypto_policy_set_rtp_default(&policy.rtp)
                srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
            case .aeadAes128Gcm:
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
            }
            policy.ssrc.type = type
            policy.window_size = 1024
            var session: srtp_t? = nil
            let status = key.withUnsafeMutableBufferPointer { k -> srtp_err_status_t in
                policy.key = k.baseAddress
                return srtp_create(&session, &policy)
            }
            if status != srtp_err_status_ok { fatalError("srtp_create: \(status.rawValue)") }
            if slot == 0 { sender = session } else { receiver = session }
        }
    }

    deinit {
        srtp_dealloc(sender)
        srtp_dealloc(receiver)
    }

    func roundTrip(_ p: inout SRTPBenchPacket, rtcp: Bool) {
        var n = Int32(p.length)
        let ok = p.bytes.withUnsafeMutableBytes { raw -> Bool in
            let base = raw.baseAddress
            if rtcp {
                return srtp_protect_rtcp(sender, base, &n) == srtp_err_status_ok
                    && srtp_unprotect_rtcp(receiver, base, &n) == srtp_err_status_ok
            }
            return srtp_protect(sender, base, &n) == srtp_err_status_ok && srtp_unprotect(receiver, base, &n) == srtp_err_status_ok
        }
        if !ok || n != Int32(p.length) { fatalError("libsrtp round trip failed") }
    }
}

/// `ice-bench alloc-check`'s SRTP lines: fails if SRTPSession allocates per packet beyond
/// what libsrtp's crypto backend itself does on the same packets.
func runSRTPAllocationCheck(packets: Int = 10_000) -> Bool {
    var ok = true
    for profile in SRTPProfile.allCases {
        let (session, library) = srtpSteadyStateAllocations(profile, packets: packets)
        let label = srtpProfileLabel(profile)
        print("srtp allocations (\(label)): \(packets) RTP protect+unprotect (and 1 RTCP per 100): SRTPSession \(session), libsrtp alone \(library), SRTPSession adds \(session - library) (\(formatPerOp(session - library, packets)) per packet)")
        if session != library {
            print("FAIL: SRTPSession allocated on the packet path (\(label))")
            ok = false
        }
        if library != 0 {
            print("note: this libsrtp2's crypto backend allocates \(formatPerOp(library, packets)) per round trip (\(label))")
        }
    }
    return ok
}
