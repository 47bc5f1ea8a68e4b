import CLinux
import CMbedTLS
import Common

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

/// mbedTLS's send callback over a non-blocking socket (the descriptor is the context).
private func tlsSend(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let context else { return netSendFailed }
    let fd = context.load(as: Int32.self)
    while true {
        let n = CLinux.send(fd, bytes, length, Int32(MSG_NOSIGNAL))
        if n >= 0 { return Int32(truncatingIfNeeded: n) }
        let e = ice_errno()
        if e == ice_EINTR { continue }
        if e == ice_EAGAIN { return MBEDTLS_ERR_SSL_WANT_WRITE }
        if e == ECONNRESET || e == EPIPE { return netConnectionReset }
        return netSendFailed
    }
}

/// mbedTLS's receive callback over a non-blocking socket.
private func tlsReceive(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let context else { return netReceiveFailed }
    let fd = context.load(as: Int32.self)
    while true {
        let n = recv(fd, buffer, length, 0)
        if n >= 0 { return Int32(truncatingIfNeeded: n) }
        let e = ice_errno()
        if e == ice_EINTR { continue }
        if e == ice_EAGAIN { return MBEDTLS_ERR_SSL_WANT_READ }
        if e == ECONNRESET { return netConnectionReset }
        return netReceiveFailed
    }
}

/// The certificate check for a server named by an IP literal: mbedTLS 2.28 matches only DNS
/// names, so the leaf must list the address as an iPAddress subjectAltName (RFC 5280
/// §4.2.1.6), else verification fails as a name mismatch. The context holds the expected
/// address: a length byte (4 or 16) and the bytes.
private func tlsVerifyIPAddress(_ context: UnsafeMutableRawPointer?, _ certificate: UnsafeMutablePointer<mbedtls_x509_crt>?,
                                _ depth: Int32, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard depth == 0, let context, let certificate, let flags else { return 0 }
    let expected = UnsafeRawBufferPointer(start: context + 1, count: Int(context.load(as: UInt8.self)))
    let ext = certificate.pointee.v3_ext
    let extensions = UnsafeRawBufferPointer(start: ext.p, count: ext.p == nil ? 0 : Int(ext.len))
    if !X509Extensions.subjectAltNamesContainIP(extensions, expected) {
        flags.pointee |= UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH)
    }
    return 0
}

/// Just enough DER to find iPAddress entries of the subjectAltName extension.
public enum X509Extensions {
    /// One TLV at `at`: its tag, where its content starts and ends.
    static func element(_ der: UnsafeRawBufferPointer, at: Int, end: Int) -> (tag: UInt8, start: Int, end: Int)? {
        guard at + 2 <= end else { return nil }
        let tag = der[at]
        var length = Int(der[at + 1])
        var start = at + 2
        if length >= 0x80 {
            let n = length & 0x7F
            guard n >= 1, n <= 3, start + n <= end else { return nil }
            length = 0
            for k in 0..<n { length = length << 8 | Int(der[start + k]) }
            start += n
        }
        guard start + length <= end else { return nil }
        return (tag, start, start + length)
    }

    /// Whether the certificate's extensions (the `[3] { SEQUENCE OF Extension }` or the
    /// SEQUENCE itself) hold a subjectAltName (2.5.29.17) iPAddress equal to `ip` (4 or 16 bytes).
    public static func subjectAltNamesContainIP(_ der: UnsafeRawBufferPointer, _ ip: UnsafeRawBufferPointer) -> Bool {
        guard var list = element(der, at: 0, end: der.count) else { return false }
        if list.tag == 0xA3 {
            guard let inner = element(der, at: list.start, end: list.end) else { return false }
            list = inner
        }
        guard list.tag == 0x30 else { return false }
        var at = list.start
        while let ext = element(der, at: at, end: list.end) {
            at = ext.end
            guard ext.tag == 0x30, let oid = element(der, at: ext.start, end: ext.end), oid.tag == 0x06,
                  oid.end - oid.start == 3, der[oid.start] == 0x55, der[oid.start + 1] == 0x1D, der[oid.start + 2] == 0x11
            else { continue }
            var field = oid.end
            // critical BOOLEAN (optional), then the extnValue OCTET STRING.
            guard var value = element(der, at: field, end: ext.end) else { return false }
            if value.tag == 0x01 {
                field = value.end
                guard let v = element(der, at: field, end: ext.end) else { return false }
                value = v
            }
            guard value.tag == 0x04, let names = element(der, at: value.start, end: value.end), names.tag == 0x30 else { return false }
            var n = names.start
            while let name = element(der, at: n, end: names.end) {
                n = name.end
                // [7] IMPLICIT OCTET STRING: iPAddress.
                if name.tag == 0x87 && name.end - name.start == ip.count {
                    var same = true
                    for k in 0..<ip.count where der[name.start + k] != ip[k] { same = false }
                    if same { return true }
                }
            }
            return false
        }
        return false
    }
}

/// One TLS client session over a connected, non-blocking TCP socket (the caller owns the
/// socket and its event-loop registration). The handshake and every read and write return
/// "would block" instead of waiting; the caller retries when the socket is ready
/// (`wantsWrite` says which readiness a blocked handshake or write waits for).
public final class TLSConnection {
    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    /// The descriptor, as the BIO callbacks' context.
    let descriptorBox: UnsafeMutablePointer<Int32>
    /// Length byte plus address bytes for an IP-literal server, else nil.
    let ipBox: UnsafeMutableRawPointer?
    let configuration: TLSClientConfiguration
    public private(set) var handshakeDone = false
    /// The last operation waits for the socket to become writable (else readable).
    public private(set) var wantsWrite = false

    /// `serverName`: a DNS name, sent as SNI (RFC 6066) and matched against the certificate;
    /// or an IP literal, which is not sent (SNI carries names only) and must appear as an
    /// iPAddress subjectAltName.
    public init(configuration: TLSClientConfiguration, descriptor: Int32, serverName: String) throws(TLSError) {
        self.configuration = configuration
        ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        descriptorBox = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        descriptorBox.initialize(to: descriptor)
        var literal: IPAddress? = IPAddress(serverName)
        if literal == nil, serverName.hasPrefix("["), serverName.hasSuffix("]") {
            literal = IPAddress(String(serverName.dropFirst().dropLast()))
        }
        if let ip = literal {
            let box = UnsafeMutableRawPointer.allocate(byteCount: 17, alignment: 1)
            switch ip {
            case .v4(let a):
                box.storeBytes(of: 4, as: UInt8.self)
                UnsafeMutableRawBufferPointer(start: box + 1, count: 4).storeBigEndian(a, at: 0)
            case .v6(let hi, let lo):
                box.storeBytes(of: 16, as: UInt8.self)
                let b = UnsafeMutableRawBufferPointer(start: box + 1, count: 16)
                b.storeBigEndian(hi, at: 0)
                b.storeBigEndian(lo, at: 8)
            }
            ipBox = box
        } else {
            ipBox = nil
        }
        var rc = mbedtls_ssl_setup(ssl, configuration.config)
        if rc == 0 {
            if let ipBox {
                mbedtls_ssl_set_verify(ssl, tlsVerifyIPAddress, ipBox)
            } else {
                rc = mbedtls_ssl_set_hostname(ssl, serverName)
            }
        }
        if rc != 0 {
            // Every stored property is set, so throwing runs deinit, which releases: releasing
            // here as well would free the context twice.
            throw .setup(rc)
        }
        mbedtls_ssl_set_bio(ssl, UnsafeMutableRawPointer(descriptorBox), tlsSend, tlsReceive, nil)
    }

    deinit { release() }

    private func release() {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
        descriptorBox.deallocate()
        ipBox?.deallocate()
    }

    /// Advances the handshake: true when it is complete, false when it waits for the socket.
    public func handshake() throws(TLSError) -> Bool {
        if handshakeDone { return true }
        let rc = mbedtls_ssl_handshake(ssl)
        switch rc {
        case 0:
            handshakeDone = true
            wantsWrite = false
            return true
        case MBEDTLS_ERR_SSL_WANT_READ:
            wantsWrite = false
            return false
        case MBEDTLS_ERR_SSL_WANT_WRITE:
            wantsWrite = true
            return false
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
            throw .certificate(flags: mbedtls_ssl_get_verify_result(ssl))
        case MBEDTLS_ERR_SSL_CONN_EOF, netConnectionReset:
            throw .handshake(rc)
        default:
            // A verify failure can also surface as the alert mbedTLS sent about it.
            let flags = mbedtls_ssl_get_verify_result(ssl)
            if flags != 0 && flags != UInt32.max { throw .certificate(flags: flags) }
            throw .handshake(rc)
        }
    }

    /// Encrypts and sends up to `bytes.count` bytes (at most one record): the count taken, or
    /// nil when the socket is full. After nil, call again with the same bytes (mbedTLS has
    /// already taken them into a record).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> Int? {
        guard let base = bytes.baseAddress else { return 0 }
        let rc = mbedtls_ssl_write(ssl, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rc >= 0 {
            wantsWrite = false
            return Int(rc)
        }
        switch rc {
        case MBEDTLS_ERR_SSL_WANT_WRITE:
            wantsWrite = true
            return nil
        case MBEDTLS_ERR_SSL_WANT_READ:
            wantsWrite = false
            return nil
        default:
            throw .io(rc)
        }
    }

    /// Decrypted bytes into `buffer`: the count, or nil when no more are available yet.
    /// Throws `.closed` at the server's close_notify or end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int? {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let rc = mbedtls_ssl_read(ssl, base.assumingMemoryBound(to: UInt8.self), buffer.count)
        if rc > 0 { return Int(rc) }
        switch rc {
        case 0, MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, MBEDTLS_ERR_SSL_CONN_EOF:
            throw .closed
        case MBEDTLS_ERR_SSL_WANT_READ:
            wantsWrite = false
            return nil
        case MBEDTLS_ERR_SSL_WANT_WRITE:
            wantsWrite = true
            return nil
        default:
            throw .io(rc)
        }
    }

    /// Decrypted bytes mbedTLS holds that `read` has not returned yet (the socket may have
    /// nothing more to wake the event loop for).
    public var bytesAvailable: Int { mbedtls_ssl_get_bytes_avail(ssl) }

    /// Best-effort close_notify (a would-block is not retried).
    public func closeNotify() {
        if handshakeDone { _ = mbedtls_ssl_close_notify(ssl) }
    }
}
