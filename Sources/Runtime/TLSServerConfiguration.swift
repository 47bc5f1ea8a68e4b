import CLinux
import CMbedTLS

/// Why a TLS server's certificate or key could not be loaded.
public enum TLSServerConfigurationError: Error, Equatable {
    /// The certificate file could not be read or held no PEM/DER certificate.
    case certificateFile(path: String, code: Int32)
    /// The key file could not be read, is encrypted, or held no private key mbedTLS parses.
    case keyFile(path: String, code: Int32)
    /// The key is not the one of the (first) certificate.
    case keyMismatch(certificate: String, key: String)
    /// mbedTLS refused the configuration.
    case setup(Int32)

    public var description: String {
        switch self {
        case .certificateFile(let path, let code):
            return "cannot load a certificate from " + path + " (mbedTLS " + mbedTLSCodeText(code) + ")"
        case .keyFile(let path, let code):
            return "cannot load a private key from " + path + " (mbedTLS " + mbedTLSCodeText(code) + ")"
        case .keyMismatch(let certificate, let key):
            return "the key in " + key + " does not belong to the certificate in " + certificate
        case .setup(let code): return "TLS setup failed (mbedTLS " + mbedTLSCodeText(code) + ")"
        }
    }
}

/// What every TLS server connection shares: the certificate chain (leaf first, as a web
/// server's PEM file holds it) and its private key, TLS 1.2 or later, no client certificate
/// asked for (the bearer token authenticates the client, RFC 9725 §4.7.1). Load it once;
/// connections keep it alive.
public final class TLSServerConfiguration {
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let chain: UnsafeMutablePointer<mbedtls_x509_crt>
    let key: UnsafeMutablePointer<mbedtls_pk_context>
    public let certificateFile: String

    /// A key file larger than this is no key (it is read whole, and it is configuration input).
    static let maxKeyFileBytes = 64 * 1024

    public init(certificateFile: String, keyFile: String) throws(TLSServerConfigurationError) {
        let chain = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(chain)
        let key = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedtls_pk_init(key)
        let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
        mbedtls_ssl_config_init(config)
        func release() {
            mbedtls_ssl_config_free(config)
            config.deallocate()
            mbedtls_pk_free(key)
            key.deallocate()
            mbedtls_x509_crt_free(chain)
            chain.deallocate()
        }
        // A positive result counts certificates that did not parse: a chain file must parse whole.
        let parsed = mbedtls_x509_crt_parse_file(chain, certificateFile)
        if parsed != 0 || chain.pointee.version == 0 {
            release()
            throw .certificateFile(path: certificateFile, code: parsed < 0 ? parsed : MBEDTLS_ERR_X509_INVALID_FORMAT)
        }
        guard var bytes = readFile(keyFile, limit: Self.maxKeyFileBytes) else {
            release()
            throw .keyFile(path: keyFile, code: MBEDTLS_ERR_PK_FILE_IO_ERROR)
        }
        // mbedTLS parses PEM only with its terminating NUL counted in the length.
        bytes.append(0)
        var rc = bytes.withUnsafeBufferPointer { b in
            ice_pk_parse_key(key, b.baseAddress, b.count, serverRandom, nil)
        }
        // The key's bytes are secret: not left in freed memory.
        for i in bytes.indices { bytes[i] = 0 }
        if rc != 0 {
            release()
            throw .keyFile(path: keyFile, code: rc)
        }
        if ice_pk_check_pair(&chain.pointee.pk, key, serverRandom, nil) != 0 {
            release()
            throw .keyMismatch(certificate: certificateFile, key: keyFile)
        }
        rc = mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)
        if rc == 0 {
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_NONE)
            mbedtls_ssl_conf_rng(config, serverRandom, nil)
            mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
            rc = mbedtls_ssl_conf_own_cert(config, chain, key)
        }
        if rc != 0 {
            release()
            throw .setup(rc)
        }
        self.config = config
        self.chain = chain
        self.key = key
        self.certificateFile = certificateFile
    }

    deinit {
        mbedtls_ssl_config_free(config)
        config.deallocate()
        mbedtls_pk_free(key)
        key.deallocate()
        mbedtls_x509_crt_free(chain)
        chain.deallocate()
    }
}

/// The kernel's CSPRNG for the server's handshakes (as for the client's).
private func serverRandom(_ context: UnsafeMutableRawPointer?, _ output: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let output else { return -1 }
    var filled = 0
    while filled < length {
        let n = getrandom(output + filled, length - filled, 0)
        if n < 0 {
            if ice_errno() == ice_EINTR { continue }
            return -1
        }
        filled += n
    }
    return 0
}
