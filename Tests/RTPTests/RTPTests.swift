import Common
import RTP
import Testing

@Suite struct RTPTests {
    func packet(seq: UInt16, pt: UInt8 = 96, ssrc: UInt32 = 0x1234_5678, csrc: Int = 0, ext: [UInt8]? = nil,
                payload: [UInt8] = [1, 2, 3], padding: Int = 0) -> [UInt8] {
        var p: [UInt8] = [0x80 | UInt8(csrc), pt, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0x03, 0xE8]
        p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        for i in 0..<csrc { p += [0, 0, 0, UInt8(i)] }
        if let ext {
            p[0] |= 0x10
            p += [0xBE, 0xDE, 0, UInt8(ext.count / 4)] + ext
        }
        p += payload
        if padding > 0 {
            p[0] |= 0x20
            p += [UInt8](repeating: 0, count: padding - 1) + [UInt8(padding)]
        }
        return p
    }

    func parse(_ p: [UInt8]) throws(RTPError) -> RTPHeader {
        let r: Result<RTPHeader, RTPError> = p.withUnsafeBytes { raw in
            do throws(RTPError) { return .success(try RTPHeader(parsing: raw)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    @Test func parsesHeaders() throws {
        let h = try parse(packet(seq: 513, pt: 96, csrc: 2, ext: [9, 9, 9, 9], payload: [7, 7], padding: 4))
        #expect(h.sequenceNumber == 513 && h.payloadType == 96 && h.ssrc == 0x1234_5678 && h.timestamp == 1000)
        #expect(h.csrcCount == 2 && h.hasExtension)
        #expect(h.payloadOffset == 12 + 8 + 8 && h.payloadLength == 2)
    }

    @Test func rejectsMalformed() {
        #expect(throws: RTPError.tooShort) { try parse([0x80, 0, 0]) }
        var v1 = packet(seq: 1)
        v1[0] = 0x40
        #expect(throws: RTPError.badVersion) { try parse(v1) }
        var cc = packet(seq: 1, payload: [])
        cc[0] |= 0x0F
        #expect(throws: RTPError.csrcOverrun) { try parse(cc) }
        var ext = packet(seq: 1, ext: [1, 2, 3, 4], payload: [])
        ext[15] = 9  // extension claims 9 words
        #expect(throws: RTPError.extensionOverrun) { try parse(ext) }
        var pad = packet(seq: 1, payload: [1])
        pad[0] |= 0x20
        pad[pad.count - 1] = 200
        #expect(throws: RTPError.badPadding) { try parse(pad) }
    }

    @Test func demultiplexesPerRFC7983() {
        func kind(_ b: [UInt8]) -> PacketKind { b.withUnsafeBytes { PacketKind.classify($0) } }
        #expect(kind([0x00, 0x01]) == .stun)
        #expect(kind([0x01, 0x01]) == .stun)
        #expect(kind([22, 0xFE]) == .dtls)
        #expect(kind([0x40, 0x00]) == .turnChannel)
        #expect(kind([0x80, 96]) == .rtp)
        #expect(kind([0x80, 0x80 | 96]) == .rtp)  // marker bit set
        #expect(kind([0x80, 200]) == .rtcp)        // sender report
        #expect(kind([0x81, 201]) == .rtcp)
        #expect(kind([0xFF]) == .unknown)
        #expect(kind([]) == .unknown)
    }

    @Test func countsGapsAndLatePackets() throws {
        var c = StreamCounters()
        for seq: UInt16 in [65534, 65535, 0, 3, 2, 3, 4] {
            let p = packet(seq: seq)
            c.recordRTP(try parse(p), size: p.count, now: .zero)
        }
        // 0 follows 65535 across the wrap; 1 and 2 skipped at 3 (2 arrives late), 3 duplicated.
        #expect(c.packets == 7 && c.sequenceGaps == 2 && c.lateOrDuplicate == 2)
        #expect(c.bytes == 7 * 15)
    }
}
