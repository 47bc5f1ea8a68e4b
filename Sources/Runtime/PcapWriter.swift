import CLinux
import Common

/// Writes datagrams to a pcap file (LINKTYPE_RAW: each record is an IPv4 or IPv6 packet with a
/// UDP header we synthesise), so Wireshark decodes the STUN, RTP and RTCP the agent exchanged.
public final class PcapWriter {
    let fd: Int32
    var scratch = [UInt8](repeating: 0, count: 48 + 65536)

    public init?(path: String) {
        fd = ice_open_for_writing(path)
        guard fd >= 0 else { return nil }
        // Global header: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, linktype 101 (raw IP).
        var h = [UInt8]()
        for v: UInt32 in [0xA1B2_C3D4] { h += le32(v) }
        h += le16(2) + le16(4) + le32(0) + le32(0) + le32(65535) + le32(101)
        _ = h.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    deinit { close(fd) }

    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }

    /// Records one UDP datagram from `source` to `destination`.
    public func record(_ payload: UnsafeRawBufferPointer, from source: TransportAddress, to destination: TransportAddress) {
        guard source.ip.isIPv4 == destination.ip.isIPv4, payload.count <= 65000 else { return }
        var ts = timespec()
        clock_gettime(clockid_t(ice_CLOCK_REALTIME), &ts)
        let ipHeader = source.ip.isIPv4 ? 20 : 40
        let total = ipHeader + 8 + payload.count
        scratch.withUnsafeMutableBytes { b in
            // Record header: seconds, microseconds, captured and original length (little-endian).
            b.storeBytes(of: UInt32(truncatingIfNeeded: ts.tv_sec).littleEndian, toByteOffset: 0, as: UInt32.self)
            b.storeBytes(of: UInt32(ts.tv_nsec / 1000).littleEndian, toByteOffset: 4, as: UInt32.self)
            b.storeBytes(of: UInt32(total).littleEndian, toByteOffset: 8, as: UInt32.self)
            b.storeBytes(of: UInt32(total).littleEndian, toByteOffset: 12, as: UInt32.self)
            let p = UnsafeMutableRawBufferPointer(rebasing: b[16...])
            if source.ip.isIPv4 {
                p[0] = 0x45; p[1] = 0
                p.storeBigEndian(UInt16(total), at: 2)
                p.storeBigEndian(UInt32(0), at: 4)
                p[8] = 64; p[9] = 17
                p.storeBigEndian(UInt16(0), at: 10)
                source.ip.write(to: UnsafeMutableRawBufferPointer(rebasing: p[12..<16]))
                destination.ip.write(to: UnsafeMutableRawBufferPointer(rebasing: p[16..<20]))
                // RFC 791 header checksum.
                var sum: UInt32 = 0
                for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(p[i]) << 8 | UInt32(p[i + 1]) }
                while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
                p.storeBigEndian(~UInt16(sum), at: 10)
            } else {
                p.storeBigEndian(UInt32(0x6000_0000), at: 0)
                p.storeBigEndian(UInt16(8 + payload.count), at: 4)
                p[6] = 17; p[7] = 64
                source.ip.write(to: UnsafeMutableRawBufferPointer(rebasing: p[8..<24]))
                destination.ip.write(to: UnsafeMutableRawBufferPointer(rebasing: p[24..<40]))
            }
            let udp = UnsafeMutableRawBufferPointer(rebasing: p[ipHeader...])
            udp.storeBigEndian(source.port, at: 0)
            udp.storeBigEndian(destination.port, at: 2)
            udp.storeBigEndian(UInt16(8 + payload.count), at: 4)
            // Checksum 0 ("not computed"): valid for IPv4; for IPv6 Wireshark flags it but decodes.
            udp.storeBigEndian(UInt16(0), at: 6)
            UnsafeMutableRawBufferPointer(rebasing: udp[8..<(8 + payload.count)]).copyMemory(from: payload)
            _ = write(fd, b.baseAddress, 16 + total)
        }
    }
}
