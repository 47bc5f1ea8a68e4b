import CLinux
import CMbedTLS
import Common

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
