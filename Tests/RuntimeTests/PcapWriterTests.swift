import Common
import Foundation
import Runtime
import Testing

/// `--pcap` on a daemon that runs for months: the file is capped, moves to FILE.1 once full,
/// and both files stay readable captures.
@Suite struct PcapWriterTests {
    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pcap-\(UUID().uuidString).pcap").path
    }

    /// The records of a classic little-endian pcap: each record's payload byte after the
    /// synthesised IPv4 and UDP headers (the test writes one distinct byte per datagram).
    func records(_ path: String) throws -> [UInt8] {
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(d.prefix(4)) == [0xD4, 0xC3, 0xB2, 0xA1] && d[20] == 101)
        var at = 24, out: [UInt8] = []
        while at < d.count {
            let caplen = Int(d[at + 8]) | Int(d[at + 9]) << 8 | Int(d[at + 10]) << 16 | Int(d[at + 11]) << 24
            try #require(at + 16 + caplen <= d.count, "record cut at \(at)")
            out.append(d[at + 16 + 28])
            at += 16 + caplen
        }
        return out
    }

    @Test func theFileIsCappedAndMovesToDotOneOnce() throws {
        let path = tempPath()
        defer { for p in [path, path + ".1"] { try? FileManager.default.removeItem(atPath: p) } }
        let writer = try #require(PcapWriter(path: path, maxBytes: 4096))
        let a = TransportAddress("192.0.2.1:5000")!, b = TransportAddress("192.0.2.2:6000")!
        // 244 bytes a record: 16 of record header, 28 of IPv4+UDP, 200 of payload.
        for i in 0..<100 {
            let payload = [UInt8](repeating: UInt8(i), count: 200)
            payload.withUnsafeBytes { writer.record($0, from: a, to: b) }
        }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let oldSize = try #require(try FileManager.default.attributesOfItem(atPath: path + ".1")[.size] as? Int)
        #expect(size <= 4096 && oldSize <= 4096, "\(size) \(oldSize)")
        #expect(writer.rotations > 1)
        // No other generation is kept (tcpdump -W 2): FILE and FILE.1 only.
        #expect(!FileManager.default.fileExists(atPath: path + ".2"))
        // FILE.1 holds the records just before FILE's, with none lost or cut at the seam.
        let current = try records(path), previous = try records(path + ".1")
        #expect(current.last == 99)
        let seam = previous + current
        #expect(seam == Array(UInt8(100 - seam.count)..<100), "\(previous) \(current)")
        #expect(previous.count == (4096 - 24) / 244)
    }

    /// Each record carries the wall-clock time it was written: seconds and microseconds
    /// (below one million), as Wireshark and tcpdump read them beside other machines' captures.
    @Test func recordsCarryTheWallClock() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try #require(PcapWriter(path: path, maxBytes: 1 << 20))
        let a = TransportAddress("192.0.2.1:5000")!, b = TransportAddress("192.0.2.2:6000")!
        let before = Date().timeIntervalSince1970
        [UInt8](repeating: 7, count: 20).withUnsafeBytes { writer.record($0, from: a, to: b) }
        let after = Date().timeIntervalSince1970
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(d.count >= 24 + 16)
        func word(_ at: Int) -> UInt32 { UInt32(d[at]) | UInt32(d[at + 1]) << 8 | UInt32(d[at + 2]) << 16 | UInt32(d[at + 3]) << 24 }
        let seconds = word(24), microseconds = word(28)
        #expect(microseconds < 1_000_000)
        let t = Double(seconds) + Double(microseconds) / 1e6
        #expect(t >= before - 0.001 && t <= after + 0.001, "\(t) outside \(before)...\(after)")
    }

    @Test func aRecordLargerThanTheCapIsStillWrittenAloneInItsFile() throws {
        let path = tempPath()
        defer { for p in [path, path + ".1"] { try? FileManager.default.removeItem(atPath: p) } }
        let writer = try #require(PcapWriter(path: path, maxBytes: 1000))
        let a = TransportAddress("192.0.2.1:5000")!, b = TransportAddress("192.0.2.2:6000")!
        for i in 0..<3 {
            let payload = [UInt8](repeating: UInt8(i), count: 1500)
            payload.withUnsafeBytes { writer.record($0, from: a, to: b) }
        }
        #expect(try records(path) == [2])
        #expect(try records(path + ".1") == [1])
        #expect(writer.rotations == 2)
    }

    /// A device whose disk cannot take the header: no writer, so the daemon reports it at start.
    @Test func aFileThatCannotBeWrittenGivesNoWriter() {
        #expect(PcapWriter(path: "/dev/full") == nil)
        #expect(PcapWriter(path: "/nonexistent/dir/x.pcap") == nil)
    }
}
