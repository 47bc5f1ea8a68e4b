/// Reassembles a fragmented ClientHello for the server role. mbedTLS (2.28 and 3.x) reads
/// the ClientHello straight from one record and rejects fragments ("ClientHello
/// fragmentation not supported"), but browsers offering DTLS 1.3 key shares send a ~1,400-byte
/// ClientHello as two fragments in two datagrams (RFC 6347 §4.2.3). The fragments are joined
/// here into one unfragmented record, which is also what the handshake transcript hashes
/// (RFC 6347 §4.2.6), and only that record is handed to mbedTLS.
struct ClientHelloAssembler {
    /// Far above any real ClientHello, far below mbedTLS's 16 KiB input buffer.
    static let maximumLength = 8192
    static let handshakeHeaderLength = 12

    private var messageSequence: UInt16 = 0
    private var body: [UInt8] = []
    private var covered: [Bool] = []
    private var coveredCount = 0
    private var recordPrefix: [UInt8] = []   // type, version, epoch of the first fragment
    private var highestSequence: UInt64 = 0

    /// Whether the datagram is one record holding one whole ClientHello, epoch 0. Until mbedTLS
    /// has one, it reads the first record raw and fails the handshake on anything else, so
    /// nothing else may reach it.
    static func isWholeClientHello(_ d: UnsafeRawBufferPointer) -> Bool {
        let length = Int(d[11]) << 8 | Int(d[12])
        guard d.count == RecordFilter.headerLength + length, d[0] == 22, d[3] == 0, d[4] == 0,
              length >= handshakeHeaderLength else { return false }
        let h = RecordFilter.headerLength
        guard d[h] == 1 else { return false }
        let total = uint24(d, h + 1)
        return uint24(d, h + 6) == 0 && uint24(d, h + 9) == total && total + handshakeHeaderLength == length
    }

    /// Whether the record at `offset` is a ClientHello fragment that needs joining: epoch-0
    /// handshake, msg_type client_hello, and not the whole message.
    static func isFragment(_ d: UnsafeRawBufferPointer, record offset: Int) -> Bool {
        let length = Int(d[offset + 11]) << 8 | Int(d[offset + 12])
        guard d[offset] == 22, d[offset + 3] == 0, d[offset + 4] == 0, length >= handshakeHeaderLength else { return false }
        let h = offset + RecordFilter.headerLength
        guard d[h] == 1 else { return false }
        let total = uint24(d, h + 1), fragmentOffset = uint24(d, h + 6), fragmentLength = uint24(d, h + 9)
        return fragmentOffset != 0 || fragmentLength != total
    }

    /// Takes one fragment record (checked by `isFragment` and framed by `RecordFilter`);
    /// returns the joined single-record datagram once every byte has arrived.
    mutating func add(_ d: UnsafeRawBufferPointer, record offset: Int) -> [UInt8]? {
        let recordLength = Int(d[offset + 11]) << 8 | Int(d[offset + 12])
        let h = offset + RecordFilter.headerLength
        let total = Self.uint24(d, h + 1)
        let sequence = UInt16(d[h + 4]) << 8 | UInt16(d[h + 5])
        let fragmentOffset = Self.uint24(d, h + 6)
        let fragmentLength = Self.uint24(d, h + 9)
        guard total <= Self.maximumLength, fragmentLength <= recordLength - Self.handshakeHeaderLength,
              fragmentOffset <= total, fragmentLength <= total - fragmentOffset else { return nil }
        if body.count != total || messageSequence != sequence || recordPrefix.isEmpty {
            // A different ClientHello (another attempt): start over with it.
            messageSequence = sequence
            body = [UInt8](repeating: 0, count: total)
            covered = [Bool](repeating: false, count: total)
            coveredCount = 0
            recordPrefix = Array(UnsafeRawBufferPointer(rebasing: d[offset..<(offset + 5)]))
            highestSequence = 0
        }
        var recordSequence: UInt64 = 0
        for i in 5..<11 { recordSequence = recordSequence << 8 | UInt64(d[offset + i]) }
        highestSequence = max(highestSequence, recordSequence)
        for i in 0..<fragmentLength {
            body[fragmentOffset + i] = d[h + Self.handshakeHeaderLength + i]
            if !covered[fragmentOffset + i] {
                covered[fragmentOffset + i] = true
                coveredCount += 1
            }
        }
        guard coveredCount == total else { return nil }
        let handshakeLength = Self.handshakeHeaderLength + total
        var out = recordPrefix
        for shift in stride(from: 40, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: highestSequence >> UInt64(shift))) }
        out.append(UInt8(handshakeLength >> 8))
        out.append(UInt8(handshakeLength & 0xFF))
        // msg_type, length, message_seq, fragment_offset 0, fragment_length = length.
        out.append(1)
        Self.appendUInt24(&out, total)
        out.append(UInt8(messageSequence >> 8))
        out.append(UInt8(messageSequence & 0xFF))
        Self.appendUInt24(&out, 0)
        Self.appendUInt24(&out, total)
        out += body
        self = ClientHelloAssembler()
        return out
    }

    static func uint24(_ d: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(d[at]) << 16 | Int(d[at + 1]) << 8 | Int(d[at + 2])
    }

    static func appendUInt24(_ out: inout [UInt8], _ v: Int) {
        out.append(UInt8(v >> 16 & 0xFF))
        out.append(UInt8(v >> 8 & 0xFF))
        out.append(UInt8(v & 0xFF))
    }
}
