/// The framing check a datagram passes before mbedTLS sees it (RFC 6347 §4.1): one or more
/// whole DTLSPlaintext/DTLSCiphertext records, each with a TLS 1.2 content type, a DTLS
/// version and a length that fits. Anything else is dropped here, counted, and never reaches
/// the handshake state.
enum RecordFilter {
    static let headerLength = 13

    static func isWellFormed(_ datagram: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        guard datagram.count >= headerLength else { return false }
        while offset < datagram.count {
            guard datagram.count - offset >= headerLength else { return false }
            let type = datagram[offset]
            // change_cipher_spec, alert, handshake, application_data (RFC 5246 §6.2.1).
            guard (20...23).contains(type) else { return false }
            // DTLS 1.0 (0xFEFF) or 1.2 (0xFEFD) (RFC 6347 §4.1).
            guard datagram[offset + 1] == 0xFE, datagram[offset + 2] == 0xFD || datagram[offset + 2] == 0xFF else {
                return false
            }
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            guard length > 0, length <= datagram.count - offset - headerLength else { return false }
            offset += headerLength + length
        }
        return true
    }
}
