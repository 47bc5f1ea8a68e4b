import CLinux
import CMbedTLS

/// One TLS server session over an accepted, non-blocking TCP socket (the caller owns the
/// socket and its event-loop registration, and bounds the handshake in time). Like
/// `TLSConnection`, every call returns "would block" instead of waiting; `wantsWrite` says
/// which readiness to wait for.
public final class TLSServerConnection {
    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    /// The descriptor, as the BIO callbacks' context.
    let descriptorBox: UnsafeMutablePointer<Int32>
    let configuration: TLSServerConfiguration
    public private(set) var handshakeDone = false
    /// The last operation waits for the socket to become writable (else readable).
    public private(set) var wantsWrite = false

    public init(configuration: TLSServerConfiguration, descriptor: Int32) throws(TLSError) {
        self.configuration = configuration
        ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        descriptorBox = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        descriptorBox.initialize(to: descriptor)
        let rc = mbedtls_ssl_setup(ssl, configuration.config)
        // Every stored property is set: throwing runs deinit, which releases.
        if rc != 0 { throw .setup(rc) }
        mbedtls_ssl_set_bio(ssl, UnsafeMutableRawPointer(descriptorBox), serverSend, serverReceive, nil)
    }

    deinit {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
        descriptorBox.deallocate()
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
        default:
            throw .handshake(rc)
        }
    }

    /// Encrypts and sends up to `bytes.count` bytes (at most one record): the count taken, or
    /// nil when the socket is full (call again with the same bytes).
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
    /// Throws `.closed` at the client's close_notify or end of stream.
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

    /// Best-effort close_notify (a would-block is not retried).
    public func closeNotify() {
        if handshakeDone { _ = mbedtls_ssl_close_notify(ssl) }
    }
}

/// mbedTLS's send callback over a non-blocking socket (the descriptor is the context).
private func serverSend(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
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
private func serverReceive(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
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
