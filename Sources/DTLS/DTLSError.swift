import CMbedTLS

/// Why an identity could not be made or read, or why a DTLS association failed. mbedTLS codes
/// are kept for logs.
public enum DTLSError: Error, Equatable, Sendable {
    /// The random generator could not be seeded from the injected source.
    case randomSeed(Int32)
    /// Generating the ECDSA P-256 key failed.
    case keyGeneration(Int32)
    /// Writing the self-signed certificate failed.
    case certificateWrite(Int32)
    /// An identity file larger than any key and certificate pair.
    case identityTooLarge
    /// The private key PEM is missing or unreadable (mbedTLS code), or not ECDSA P-256.
    case invalidKey(Int32)
    /// The certificate PEM is missing or unreadable (mbedTLS code), or holds more than one.
    case invalidCertificate(Int32)
    /// The certificate's public key is not the private key's.
    case keyCertificateMismatch
    /// None of the requested SRTP profiles is one mbedTLS can negotiate.
    case unsupportedProfiles
    /// mbedTLS refused the configuration (should not happen with the settings used here).
    case setup(Int32)
    /// The peer's certificate does not hash to the fingerprint its description announced
    /// (RFC 5763 §5): someone other than the signaled peer answered.
    case fingerprintMismatch
    /// The peer sent no certificate although one is required (RFC 5763 §5).
    case peerCertificateMissing
    /// The handshake ended without an SRTP profile both support (RFC 5764 §4.1.1).
    case noCommonSRTPProfile
    /// No cipher suite in common (RFC 8827 §6.5 requires ECDHE-ECDSA with AES-128-GCM).
    case noCommonCipherSuite
    /// The peer offered no DTLS version we speak (DTLS 1.2, RFC 6347).
    case unsupportedVersion
    /// The peer sent a fatal alert.
    case peerAlert
    /// The handshake's retransmissions ran out without an answer (RFC 6347 §4.2.4.1).
    case timeout
    /// Any other handshake failure (mbedTLS code).
    case handshake(Int32)
    /// Deriving the SRTP keying material failed (RFC 5705 exporter).
    case exporter(Int32)

    public var description: String {
        switch self {
        case .randomSeed(let c): return "DTLS random generator could not be seeded (" + codeText(c) + ")"
        case .keyGeneration(let c): return "DTLS key generation failed (" + codeText(c) + ")"
        case .certificateWrite(let c): return "DTLS certificate could not be written (" + codeText(c) + ")"
        case .identityTooLarge: return "DTLS identity too large to be a key and a certificate"
        case .invalidKey(let c): return "DTLS identity: no readable ECDSA P-256 private key (" + codeText(c) + ")"
        case .invalidCertificate(let c): return "DTLS identity: no single readable certificate (" + codeText(c) + ")"
        case .keyCertificateMismatch: return "DTLS identity: the certificate is not for the private key"
        case .unsupportedProfiles: return "none of the SRTP profiles asked for can be negotiated by this DTLS stack"
        case .setup(let c): return "DTLS setup failed (" + codeText(c) + ")"
        case .fingerprintMismatch:
            return "the peer's DTLS certificate does not match the fingerprint in its session description"
        case .peerCertificateMissing: return "the peer sent no DTLS certificate"
        case .noCommonSRTPProfile: return "DTLS handshake ended without a common SRTP profile"
        case .noCommonCipherSuite: return "no DTLS cipher suite in common with the peer"
        case .unsupportedVersion: return "the peer does not speak DTLS 1.2"
        case .peerAlert: return "the peer ended the DTLS handshake with a fatal alert"
        case .timeout: return "DTLS handshake timed out"
        case .handshake(let c): return "DTLS handshake failed (" + codeText(c) + ")"
        case .exporter(let c): return "DTLS-SRTP keying material could not be derived (" + codeText(c) + ")"
        }
    }

    /// The error a failed mbedTLS handshake step means.
    static func handshake(code: Int32, fingerprintMismatch: Bool) -> DTLSError {
        if fingerprintMismatch { return .fingerprintMismatch }
        switch code {
        case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE: return .peerCertificateMissing
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: return .peerAlert
        case MBEDTLS_ERR_SSL_TIMEOUT: return .timeout
        case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE: return .noCommonCipherSuite
        case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: return .unsupportedVersion
        default: return .handshake(code)
        }
    }
}

/// "-0x7780": mbedTLS codes are negative hex in its documentation.
func codeText(_ code: Int32) -> String {
    let digits: StaticString = "0123456789abcdef"
    let magnitude = UInt32(truncatingIfNeeded: code < 0 ? -Int64(code) : Int64(code))
    var text = code < 0 ? "mbedTLS -0x" : "mbedTLS 0x"
    var started = false
    digits.withUTF8Buffer { d in
        var shift = 28
        while shift >= 0 {
            let nibble = Int((magnitude >> UInt32(shift)) & 0xF)
            if nibble != 0 || started || shift == 0 {
                started = true
                text.unicodeScalars.append(Unicode.Scalar(d[nibble]))
            }
            shift -= 4
        }
    }
    return text
}
