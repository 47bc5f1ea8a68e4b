import CLinux
import CMbedTLS

/// What every TLS client connection shares: the trusted CA certificates and the mbedTLS
/// client configuration (TLS 1.2 or later, server certificate verification required,
/// randomness from getrandom). Load it once; connections keep it alive.
public final class TLSClientConfiguration {
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let ca: UnsafeMutablePointer<mbedtls_x509_crt>
    public let caFile: String

    /// Where Debian (and most distributions) keep the system's trusted CAs.
    public static let systemCAFile = "/etc/ssl/certs/ca-certificates.crt"

    public init(caFile: String) throws(TLSError) {
        let ca = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(ca)
        // A positive result counts certificates that did not parse (a bundle with one odd
        // entry is still usable); negative is a failure to read the file at all.
        let parsed = mbedtls_x509_crt_parse_file(ca, caFile)
        if parsed < 0 || ca.pointee.version == 0 {
            mbedtls_x509_crt_free(ca)
            ca.deallocate()
            throw .caFile(path: caFile, code: parsed < 0 ? parsed : 0)
        }
        let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
        mbedtls_ssl_config_init(config)
        let rc = mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                             MBEDTLS_SSL_PRESET_DEFAULT)
        if rc != 0 {
            mbedtls_ssl_config_free(config)
            config.deallocate()
            mbedtls_x509_crt_free(ca)
            ca.deallocate()
            throw .setup(rc)
        }
        mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
        mbedtls_ssl_conf_ca_chain(config, ca, nil)
        mbedtls_ssl_conf_rng(config, tlsRandom, nil)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        self.config = config
        self.ca = ca
        self.caFile = caFile
    }

    deinit {
        mbedtls_ssl_config_free(config)
        config.deallocate()
        mbedtls_x509_crt_free(ca)
        ca.deallocate()
    }
}

/// The kernel's CSPRNG for mbedTLS (no entropy pool or DRBG of our own to seed and keep).
private func tlsRandom(_ context: UnsafeMutableRawPointer?, _ output: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
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
