import CLinux
import Common

/// Writes datagrams to a pcap file (LINKTYPE_RAW: each record is an IPv4 or IPv6 packet with a
/// UDP header we synthesise), so Wireshark decodes the STUN, RTP and RTCP the agent exchanged.
///
/// A daemon runs for months, so the file is capped: when the next record would take it past
/// `maxBytes`, FILE becomes FILE.1 (replacing the one before) and a new FILE starts, as
/// tcpdump `-C N -W 2` does. At most twice `maxBytes` of disk is ever used. A write that fails
/// (disk full) stops the capture with one log line rather than retrying per packet.
public final class PcapWriter {
    /// 16 MiB: several minutes of a video call, or weeks of idle consent checks.
    public static let defaultMaxBytes = 16 << 20
    /// A cap below this could not hold the largest record (65,000 bytes of payload).
    public static let minimumMaxBytes = 1 << 17
    static let globalHeaderSize = 24

    public let path: String
    let rotatedPath: String
    public let maxBytes: Int
    var fd: Int32
    /// Bytes in the current file, global header included.
    public private(set) var fileBytes = 0
    /// FILE to FILE.1 renames so far.
    public private(set) var rotations = 0
    public var stopped: Bool { fd < 0 }
    var scratch = [UInt8](repeating: 0, count: 48 + 65536)

    public init?(path: String, maxBytes: Int = PcapWriter.defaultMaxBytes) {
        self.path = path
        rotatedPath = path + ".1"
        self.maxBytes = maxBytes
        fd = -1
        guard open() else { return nil }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Opens FILE afresh (truncating it) and writes the global header.
    func open() -> Bool {
        fd = ice_open_for_writing(path)
        guard fd >= 0 else { return false }
        // Global header: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, linktype 101 (raw IP).
        var h = [UInt8]()
        for v: UInt32 in [0xA1B2_C3D4] { h += le32(v) }
        h += le16(2) + le16(4) + le32(0) + le32(0) + le32(65535) + le32(101)
        fileBytes = 0
        return h.withUnsafeBytes { writeAll($0.baseAddress!, $0.count) }
    }

    /// FILE -> FILE.1, then a new FILE. If FILE cannot be reopened the capture stops.
    func rotate() {
        close(fd)
        fd = -1
        if ice_rename(path, rotatedPath) == 0 {
            rotations += 1
            Log.info("pcap: \(path) reached \(maxBytes) bytes: moved to \(rotatedPath), a new capture starts")
        } else {
            // Removed or on a file system that refuses: starting over still bounds the disk used.
            Log.warning("pcap: cannot rename \(path) to \(rotatedPath) (errno \(ice_errno())): starting it over")
        }
        guard open() else {
            if fd >= 0 { close(fd); fd = -1 }
            Log.error("pcap: cannot reopen \(path) (errno \(ice_errno())): capture stopped")
            return
        }
    }

    /// Writes `count` bytes or stops the capture (disk full, file system gone).
    func writeAll(_ base: UnsafeRawPointer, _ count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = write(fd, base + done, count - done)
            if n < 0 && ice_errno() == ice_EINTR { continue }
            guard n > 0 else {
                Log.error("pcap: cannot write \(path) (errno \(ice_errno())): capture stopped")
                close(fd)
                fd = -1
                return false
            }
            done += n
        }
        fileBytes += count
        return true
    }

    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }

    /// Records one UDP datagram from `source` to `destination`.
    public func record(_ payload: UnsafeRawBufferPointer, from source: TransportAddress, to destination: TransportAddress) {
        guard fd >= 0, source.ip.isIPv4 == destination.ip.isIPv4, payload.count <= 65000 else { return }
        let ipHeader = source.ip.isIPv4 ? 20 : 40
        let total = ipHeader + 8 + payload.count
        // A file always takes its first record, so a cap smaller than one record still moves on.
        if fileBytes + 16 + total > maxBytes && fileBytes > Self.globalHeaderSize {
            rotate()
            guard fd >= 0 else { return }
        }
        let now = wallClockMicroseconds()
        scratch.withUnsafeMutableBytes { b in
            // Record header: seconds, microseconds, captured and original length (little-endian).
            b.storeBytes(of: UInt32(truncatingIfNeeded: now / 1_000_000).littleEndian, toByteOffset: 0, as: UInt32.self)
            b.storeBytes(of: UInt32(now % 1_000_000).littleEndian, toByteOffset: 4, as: UInt32.self)
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
            _ = writeAll(b.baseAddress!, 16 + total)
        }
    }
}
