// libFuzzer target over SRTP and SRTCP as the agent protects and unprotects media in place
// (module SRTP on libsrtp2): a fresh pair of sessions per input, keyed alike (the DTLS client's
// and server's sides of one exporter output, RFC 5764 §4.2), either profile. Built and run by
// `fuzz/run srtp`; see fuzz/README.md.
//
// Invariants (a violation traps):
//   - unprotecting hostile bytes as SRTP or SRTCP either throws or gives a length within the
//     input, no shorter than the fixed header (RFC 3550 §5.1, §6.4.1);
//   - whatever protect accepts, the other side's unprotect gives back byte for byte, and a
//     second unprotect of the same packet is refused as a replay (RFC 3711 §3.3.2);
//   - a protected packet with one bit flipped never authenticates.
// Nothing is printed.

import Common
import SRTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var r = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    let profile: SRTPProfile = r.bool() ? .aes128CmHmacSha1_80 : .aeadAes128Gcm
    let rtcp = r.bool()
    let flip = Int(r.u16())
    var keying = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
    let seed = r.u8()
    for i in keying.indices { keying[i] = UInt8(truncatingIfNeeded: i &* 37 &+ Int(seed)) }
    let sessions = keying.withUnsafeBytes { k -> (SRTPSession, SRTPSession)? in
        guard let a = try? SRTPSession(profile: profile, keyingMaterial: k, localIsClient: true),
              let b = try? SRTPSession(profile: profile, keyingMaterial: k, localIsClient: false) else { return nil }
        return (a, b)
    }
    guard let (sender, receiver) = sessions else { fail("sessions with valid keying material") }
    let payload = r.rest()
    let room = max(profile.rtpOverhead, profile.rtcpOverhead)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: payload.count + room, alignment: 16)
    defer { buffer.deallocate() }
    let fixed = rtcp ? 8 : 12

    // Hostile bytes straight from the network.
    buffer.copyMemory(from: payload)
    if let n = try? (rtcp ? receiver.unprotectRTCP(buffer, length: payload.count) : receiver.unprotectRTP(buffer, length: payload.count)) {
        require(n <= payload.count && n >= fixed, "unprotect gave a length outside the input")
    }

    // The same bytes as a packet of ours: protected, they must come back as they were.
    buffer.copyMemory(from: payload)
    guard let protected = try? (rtcp ? sender.protectRTCP(buffer, length: payload.count) : sender.protectRTP(buffer, length: payload.count))
    else { return 0 }
    require(protected <= payload.count + room, "protect wrote past its room")
    trace("\(profile.name) \(rtcp ? "SRTCP" : "SRTP"): protected \(payload.count) -> \(protected) bytes")
    let wire = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[0..<protected]))
    if flip < protected * 8 {
        // A fresh receiver: the tampered packet must fail on its tag, not as a replay.
        let fresh = keying.withUnsafeBytes { try? SRTPSession(profile: profile, keyingMaterial: $0, localIsClient: false) }
        guard let fresh else { fail("a fresh session") }
        buffer[flip / 8] ^= UInt8(1 << (flip % 8))
        let forged = try? (rtcp ? fresh.unprotectRTCP(buffer, length: protected) : fresh.unprotectRTP(buffer, length: protected))
        require(forged == nil, "a packet with a flipped bit authenticated")
        wire.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
    guard let n = try? (rtcp ? receiver.unprotectRTCP(buffer, length: protected) : receiver.unprotectRTP(buffer, length: protected)) else {
        fail("a packet protected by the peer did not unprotect")
    }
    trace("unprotected back to \(n) bytes")
    require(n == payload.count && UnsafeRawBufferPointer(rebasing: buffer[0..<n]).elementsEqual(payload), "unprotect did not give back the packet")
    wire.withUnsafeBytes { buffer.copyMemory(from: $0) }
    let again = try? (rtcp ? receiver.unprotectRTCP(buffer, length: protected) : receiver.unprotectRTP(buffer, length: protected))
    require(again == nil, "a replayed packet was accepted")
    return 0
}
