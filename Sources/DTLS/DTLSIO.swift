import CMbedTLS
import Common
import Crypto

/// What mbedTLS's callbacks see of one endpoint: the datagram being handled, the queue of
/// datagrams to send, the injected clock and its timer, the peer fingerprint check and the
/// secrets the exporter needs. mbedTLS gets it as an unretained pointer; the endpoint owns it
/// and frees the mbedTLS context first.
final class DTLSIO {
    var input: UnsafeRawBufferPointer? = nil
    var inputConsumed = false
    var outbound: [[UInt8]] = []
    var droppedTransmits = 0
    /// Bound on queued datagrams: a handshake flight is a handful; an owner that never polls
    /// loses the oldest instead of growing the queue (DTLS retransmits, RFC 6347 §4.2.4).
    static let outboundLimit = 32

    var now = Instant.zero
    var timerStart = Instant.zero
    var timerIntermediate: Int64 = 0
    /// 0: cancelled.
    var timerFinal: Int64 = 0

    let expected: Fingerprint
    var fingerprintMatched = false
    var fingerprintMismatch = false

    var keysExported = false
    var masterSecret = [UInt8](repeating: 0, count: 48)
    var randoms = [UInt8](repeating: 0, count: 64)
    var prfType = MBEDTLS_SSL_TLS_PRF_NONE

    init(expected: Fingerprint) { self.expected = expected }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ context: UnsafeMutableRawPointer) -> DTLSIO {
        Unmanaged<DTLSIO>.fromOpaque(context).takeUnretainedValue()
    }

    func wipeSecrets() {
        for i in masterSecret.indices { masterSecret[i] = 0 }
    }
}

/// mbedTLS sends one datagram per call when an MTU is set (RFC 6347 §4.1.1).
func dtlsSend(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let context, let bytes else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    let io = DTLSIO.from(context)
    if io.outbound.count >= DTLSIO.outboundLimit {
        io.outbound.removeFirst()
        io.droppedTransmits += 1
    }
    io.outbound.append(Array(UnsafeBufferPointer(start: bytes, count: length)))
    return Int32(truncatingIfNeeded: length)
}

/// Hands mbedTLS the datagram being handled, once; otherwise there is nothing to read yet.
func dtlsReceive(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let context, let buffer else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    let io = DTLSIO.from(context)
    guard let input = io.input, !io.inputConsumed, let base = input.baseAddress else { return MBEDTLS_ERR_SSL_WANT_READ }
    io.inputConsumed = true
    let n = min(length, input.count)
    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: n)
    return Int32(n)
}

/// RFC 6347 §4.2.4: the retransmission timer, on the injected clock. mbedTLS passes the
/// intermediate and final delays in milliseconds; (0, 0) cancels.
func dtlsSetTimer(_ context: UnsafeMutableRawPointer?, _ intermediate: UInt32, _ final: UInt32) {
    guard let context else { return }
    let io = DTLSIO.from(context)
    io.timerStart = io.now
    io.timerIntermediate = Int64(intermediate)
    io.timerFinal = Int64(final)
}

/// -1 cancelled, 0 running, 1 intermediate delay passed, 2 final delay passed (mbedTLS's
/// mbedtls_ssl_get_timer_t).
func dtlsGetTimer(_ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return -1 }
    let io = DTLSIO.from(context)
    if io.timerFinal == 0 { return -1 }
    let elapsed = (io.now - io.timerStart).milliseconds
    if elapsed >= io.timerFinal { return 2 }
    if elapsed >= io.timerIntermediate { return 1 }
    return 0
}

/// RFC 5763 §5: the certificate is accepted only if it hashes to the signaled fingerprint;
/// its chain, names and dates mean nothing here (self-signed, no clock). Every other flag is
/// cleared for the matching leaf.
func dtlsVerifyFingerprint(_ context: UnsafeMutableRawPointer?, _ certificate: UnsafeMutablePointer<mbedtls_x509_crt>?,
                           _ depth: Int32, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard let context, let certificate, let flags else { return MBEDTLS_ERR_X509_BAD_INPUT_DATA }
    let io = DTLSIO.from(context)
    if depth > 0 {
        // Anything the peer chains above its leaf is irrelevant; the leaf decides.
        flags.pointee = 0
        return 0
    }
    let raw = certificate.pointee.raw
    let seen = Fingerprint(certificate: UnsafeRawBufferPointer(start: raw.p, count: Int(raw.len)))
    if seen == io.expected {
        io.fingerprintMatched = true
        flags.pointee = 0
    } else {
        io.fingerprintMismatch = true
        flags.pointee |= UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED)
    }
    return 0
}

/// Keeps the master secret and randoms for the RFC 5705 exporter, which mbedTLS 2.28 does
/// not offer itself.
func dtlsExportKeys(_ context: UnsafeMutableRawPointer?, _ masterSecret: UnsafePointer<UInt8>?, _ keyBlock: UnsafePointer<UInt8>?,
                    _ macLength: Int, _ keyLength: Int, _ ivLength: Int,
                    _ clientRandom: UnsafePointer<UInt8>?, _ serverRandom: UnsafePointer<UInt8>?,
                    _ prf: mbedtls_tls_prf_types) -> Int32 {
    guard let context, let masterSecret, let clientRandom, let serverRandom else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
    let io = DTLSIO.from(context)
    for i in 0..<48 { io.masterSecret[i] = masterSecret[i] }
    for i in 0..<32 {
        io.randoms[i] = clientRandom[i]
        io.randoms[32 + i] = serverRandom[i]
    }
    io.prfType = prf
    io.keysExported = true
    return 0
}
