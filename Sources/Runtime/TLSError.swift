import CMbedTLS

/// Why a TLS client connection could not be set up, or failed (mbedTLS codes kept for logs).
public enum TLSError: Error, Equatable {
    /// The CA file could not be read or held no certificate mbedTLS could parse.
    case caFile(path: String, code: Int32)
    /// mbedTLS refused the configuration (should not happen with the defaults used here).
    case setup(Int32)
    /// The server's certificate failed verification: `flags` are mbedTLS's
    /// MBEDTLS_X509_BADCERT_* bits (not trusted, expired, name mismatch, ...).
    case certificate(flags: UInt32)
    /// Any other handshake failure: an alert from the server, no common cipher suite or version.
    case handshake(Int32)
    /// The server closed the connection (close_notify or end of stream).
    case closed
    /// Reading or writing failed (an mbedTLS error code; socket errors map to the NET codes).
    case io(Int32)

    public var description: String {
        switch self {
        case .caFile(let path, let code):
            return "cannot load CA certificates from " + path + " (mbedTLS " + mbedTLSCodeText(code) + ")"
        case .setup(let code): return "TLS setup failed (mbedTLS " + mbedTLSCodeText(code) + ")"
        case .certificate(let flags): return TLSError.describe(verifyFlags: flags)
        case .handshake(let code): return "TLS handshake failed: " + mbedTLSCodeText(code)
        case .closed: return "the server closed the TLS connection"
        case .io(let code): return "TLS I/O failed: " + mbedTLSCodeText(code)
        }
    }

    /// "certificate not trusted, expired (mbedTLS verify flags 0x00000009)".
    public static func describe(verifyFlags flags: UInt32) -> String {
        let names: [(UInt32, String)] = [
            (UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED), "not trusted"),
            (UInt32(MBEDTLS_X509_BADCERT_EXPIRED), "expired"),
            (UInt32(MBEDTLS_X509_BADCERT_FUTURE), "not yet valid"),
            (UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH), "name mismatch"),
            (UInt32(MBEDTLS_X509_BADCERT_REVOKED), "revoked"),
            (UInt32(MBEDTLS_X509_BADCERT_MISSING), "missing"),
            (UInt32(MBEDTLS_X509_BADCERT_KEY_USAGE), "key usage not allowed"),
            (UInt32(MBEDTLS_X509_BADCERT_EXT_KEY_USAGE), "extended key usage not allowed"),
            (UInt32(MBEDTLS_X509_BADCERT_BAD_MD), "signed with an unacceptable hash"),
            (UInt32(MBEDTLS_X509_BADCERT_BAD_PK), "unacceptable key type"),
            (UInt32(MBEDTLS_X509_BADCERT_BAD_KEY), "unacceptable key"),
        ]
        var parts: [String] = []
        for (bit, name) in names where flags & bit != 0 { parts.append(name) }
        if parts.isEmpty { parts.append("rejected") }
        var text = "certificate "
        for (i, p) in parts.enumerated() { text += (i == 0 ? "" : ", ") + p }
        return text + " (mbedTLS verify flags 0x" + hex32(flags) + ")"
    }
}

/// "-0x7780 (fatal alert from the server)" for the codes worth naming, else the hex code.
func mbedTLSCodeText(_ code: Int32) -> String {
    var name: String? = nil
    switch code {
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: name = "fatal alert from the server"
    case MBEDTLS_ERR_SSL_CONN_EOF: name = "connection closed during the handshake"
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE: name = "no usable cipher suite"
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: name = "unsupported protocol version"
    case MBEDTLS_ERR_SSL_INVALID_RECORD: name = "invalid record"
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE: name = "unexpected message"
    case MBEDTLS_ERR_SSL_INVALID_MAC: name = "bad record MAC"
    case MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED: name = "peer verification failed"
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED: name = "certificate verification failed"
    case netSendFailed: name = "send failed"
    case netReceiveFailed: name = "receive failed"
    case netConnectionReset: name = "connection reset"
    case MBEDTLS_ERR_X509_FILE_IO_ERROR, MBEDTLS_ERR_PK_FILE_IO_ERROR: name = "file not readable"
    case 0: name = "no certificate found"
    default: break
    }
    let magnitude = UInt32(truncatingIfNeeded: code < 0 ? -Int64(code) : Int64(code))
    var digits = hex32(magnitude)
    while digits.count > 4 && digits.hasPrefix("0") { digits.removeFirst() }
    let hexCode = (code < 0 ? "-0x" : "0x") + digits
    return name.map { hexCode + " " + $0 } ?? hexCode
}

func hex32(_ v: UInt32) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    var s = ""
    var shift = 28
    while shift >= 0 {
        s.append(digits[Int((v >> UInt32(shift)) & 0xF)])
        shift -= 4
    }
    return s
}

// mbedTLS's net_sockets codes, returned by our BIO callbacks (net_sockets.h is not imported).
let netReceiveFailed: Int32 = -0x004C
let netSendFailed: Int32 = -0x004E
let netConnectionReset: Int32 = -0x0050
