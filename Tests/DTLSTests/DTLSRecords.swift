/// Builds DTLS records by hand for tests: fragments and garbage (RFC 6347 §4.1, §4.2.2).
enum DTLSRecords {
    /// Splits the single handshake message of a one-record datagram into two fragments of
    /// the same message_seq, each in its own record and datagram, the second with the next
    /// record sequence number.
    static func fragmentHandshake(_ datagram: [UInt8], at split: Int) -> [[UInt8]] {
        precondition(datagram[0] == 22)
        let body = Array(datagram[13...])
        let message = Array(body[12...])
        let header = Array(body[0..<6])  // msg_type, length, message_seq
        var out: [[UInt8]] = []
        let pieces = [(0, Array(message[..<split])), (split, Array(message[split...]))]
        for (n, (offset, piece)) in pieces.enumerated() {
            var handshake = header
            handshake += [UInt8(offset >> 16 & 0xFF), UInt8(offset >> 8 & 0xFF), UInt8(offset & 0xFF)]
            handshake += [UInt8(piece.count >> 16 & 0xFF), UInt8(piece.count >> 8 & 0xFF), UInt8(piece.count & 0xFF)]
            handshake += piece
            var record = Array(datagram[0..<11])
            record[10] = record[10] &+ UInt8(n)
            record += [UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)]
            out.append(record + handshake)
        }
        return out
    }

    /// A well-framed record of `type` in `epoch` with `body`.
    static func record(type: UInt8, epoch: UInt16 = 0, sequence: UInt64 = 0, body: [UInt8]) -> [UInt8] {
        var r: [UInt8] = [type, 0xFE, 0xFD, UInt8(epoch >> 8), UInt8(epoch & 0xFF)]
        for shift in stride(from: 40, through: 0, by: -8) { r.append(UInt8(sequence >> UInt64(shift) & 0xFF)) }
        r += [UInt8(body.count >> 8), UInt8(body.count & 0xFF)]
        return r + body
    }
}
