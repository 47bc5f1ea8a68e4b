import Common
import SRTP

/// Bytes from hex text; blanks and newlines are ignored.
func hex(_ text: String) -> [UInt8] {
    var t = text.filter { !$0.isWhitespace }
    return t.withUTF8 { decodeHex(UnsafeRawBufferPointer($0))! }
}

/// RFC 5764 §4.2 keying material: client_write_key | server_write_key | client_write_salt |
/// server_write_salt.
func keyingMaterial(clientKey: [UInt8], serverKey: [UInt8], clientSalt: [UInt8], serverSalt: [UInt8]) -> [UInt8] {
    clientKey + serverKey + clientSalt + serverSalt
}

/// Distinct bytes for every part, so a swapped key or salt cannot go unnoticed.
func testMaterial(_ profile: SRTPProfile, seed: UInt8 = 1) -> [UInt8] {
    (0..<profile.keyingMaterialLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed) &* 31) }
}

func session(_ profile: SRTPProfile, _ material: [UInt8], localIsClient: Bool, replayWindow: Int = 1024)
    throws(SRTPError) -> SRTPSession {
    let r: Result<SRTPSession, SRTPError> = material.withUnsafeBytes { raw in
        do throws(SRTPError) {
            return .success(try SRTPSession(profile: profile, keyingMaterial: raw, localIsClient: localIsClient,
                                            replayWindow: replayWindow))
        } catch { return .failure(error) }
    }
    return try r.get()
}

/// The client and server ends of one DTLS-SRTP association.
struct SessionPair {
    let client: SRTPSession
    let server: SRTPSession

    init(_ profile: SRTPProfile, replayWindow: Int = 1024) throws(SRTPError) {
        let m = testMaterial(profile)
        client = try session(profile, m, localIsClient: true, replayWindow: replayWindow)
        server = try session(profile, m, localIsClient: false, replayWindow: replayWindow)
    }
}

enum Kind { case rtp, rtcp }

/// Runs one of the session's in-place calls on a copy of `packet` in a buffer of `capacity`
/// bytes (default: room for the largest overhead) and returns the bytes it left.
func run(_ packet: [UInt8], capacity: Int? = nil,
         _ call: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int) throws(SRTPError) -> [UInt8] {
    var buffer = packet + [UInt8](repeating: 0, count: max(0, (capacity ?? packet.count + 64) - packet.count))
    let r: Result<Int, SRTPError> = buffer.withUnsafeMutableBytes { raw in
        do throws(SRTPError) { return .success(try call(raw, packet.count)) } catch { return .failure(error) }
    }
    return Array(buffer[0..<(try r.get())])
}

func protect(_ s: SRTPSession, _ kind: Kind, _ packet: [UInt8], capacity: Int? = nil) throws(SRTPError) -> [UInt8] {
    switch kind {
    case .rtp: return try run(packet, capacity: capacity) { p, n throws(SRTPError) in try s.protectRTP(p, length: n) }
    case .rtcp: return try run(packet, capacity: capacity) { p, n throws(SRTPError) in try s.protectRTCP(p, length: n) }
    }
}

func unprotect(_ s: SRTPSession, _ kind: Kind, _ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
    switch kind {
    case .rtp: return try run(packet) { p, n throws(SRTPError) in try s.unprotectRTP(p, length: n) }
    case .rtcp: return try run(packet) { p, n throws(SRTPError) in try s.unprotectRTCP(p, length: n) }
    }
}

/// An RTP packet (RFC 3550 §5.1): version 2, payload type 96, `payload` bytes of a pattern.
func rtpPacket(seq: UInt16, ssrc: UInt32 = 0x1234_5678, payload: Int = 160, csrc: Int = 0) -> [UInt8] {
    var p: [UInt8] = [0x80 | UInt8(csrc), 96, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0x03, 0xE8]
    p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    for i in 0..<csrc { p += [0, 0, 0, UInt8(i)] }
    p += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &+ Int(seq)) }
    return p
}

/// An RTCP receiver report with one report block (RFC 3550 §6.4.2).
func rtcpPacket(ssrc: UInt32 = 0x1234_5678, lost: UInt8 = 0) -> [UInt8] {
    var p: [UInt8] = [0x81, 201, 0, 7]
    p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    p += [0xCA, 0xFE, 0xBA, 0xBE, lost, 0, 0, 1, 0, 0, 0x12, 0x34, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]
    return p
}
