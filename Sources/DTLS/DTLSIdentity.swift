import CMbedTLS
import Common
import Crypto

/// This endpoint's DTLS identity: an ECDSA P-256 key and a self-signed certificate for it
/// (RFC 8827 §6.5: what browsers use; RFC 5763 §5: the certificate is authenticated by its
/// fingerprint in the signaling, not by a chain). One identity serves every call of one
/// thread: mbedTLS caches curve tables inside the key as it signs, so endpoints on different
/// threads need identities of their own (or the same PEM loaded twice).
public final class DTLSIdentity {
    let key: UnsafeMutablePointer<mbedtls_pk_context>
    let certificate: UnsafeMutablePointer<mbedtls_x509_crt>
    /// The SHA-256 of the DER certificate, for `a=fingerprint` (RFC 8122 §5).
    public let fingerprint: Fingerprint

    /// Upper bound of an identity PEM: a P-256 key is ~230 bytes and our certificate ~600.
    static let maximumPEMLength = 8192
    /// Not before / not after: fixed, since no clock is read; peers check the fingerprint,
    /// not the dates (RFC 5763 §5).
    static let notBefore = "20250101000000"
    static let notAfter = "20991231235959"

    private init(key: UnsafeMutablePointer<mbedtls_pk_context>, certificate: UnsafeMutablePointer<mbedtls_x509_crt>) {
        self.key = key
        self.certificate = certificate
        let raw = certificate.pointee.raw
        fingerprint = Fingerprint(certificate: UnsafeRawBufferPointer(start: raw.p, count: Int(raw.len)))
    }

    deinit {
        mbedtls_pk_free(key)
        key.deallocate()
        mbedtls_x509_crt_free(certificate)
        certificate.deallocate()
    }

    /// A fresh key and certificate (CN=ice-agent, random 127-bit serial), randomness from
    /// `random` only.
    public static func generate<R: RandomSource>(random: inout R) throws(DTLSError) -> DTLSIdentity {
        let generator = try RandomGenerator(random: &random)
        let key = newKey()
        var keep = false
        defer { if !keep { freeKey(key) } }
        var rc = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
        if rc == 0 {
            rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pointee),
                                     mbedtls_ctr_drbg_random, UnsafeMutableRawPointer(generator.context))
        }
        guard rc == 0 else { throw .keyGeneration(rc) }
        let der = try selfSignedCertificate(key: key, generator: generator)
        let certificate = try parseCertificate(der: der)
        keep = true
        return DTLSIdentity(key: key, certificate: certificate)
    }

    /// Reads back what `pem()` wrote: the private key PEM and the certificate PEM, in any
    /// order. Hostile input (a config file): any fault is a typed error.
    public convenience init(pem: UnsafeRawBufferPointer) throws(DTLSError) {
        guard pem.count <= Self.maximumPEMLength else { throw .identityTooLarge }
        // mbedTLS parses PEM only from NUL-terminated text whose length counts the NUL.
        var text = [UInt8](repeating: 0, count: pem.count + 1)
        text.withUnsafeMutableBytes { $0.copyMemory(from: pem) }
        let key = Self.newKey()
        var keep = false
        defer { if !keep { Self.freeKey(key) } }
        var rc = text.withUnsafeBufferPointer { ice_pk_parse_key(key, $0.baseAddress, $0.count, nil, nil) }
        guard rc == 0 else { throw .invalidKey(rc) }
        guard mbedtls_pk_get_type(key) == MBEDTLS_PK_ECKEY,
              mbedtls_pk_ec(key.pointee).pointee.grp.id == MBEDTLS_ECP_DP_SECP256R1 else {
            throw .invalidKey(0)
        }
        let certificate = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(certificate)
        rc = text.withUnsafeBufferPointer { mbedtls_x509_crt_parse(certificate, $0.baseAddress, $0.count) }
        if rc == 0 && certificate.pointee.next != nil { rc = MBEDTLS_ERR_X509_INVALID_FORMAT }
        if rc == 0 && ice_pk_check_pair(&certificate.pointee.pk, key, nil, nil) != 0 { rc = 1 }
        guard rc == 0 else {
            mbedtls_x509_crt_free(certificate)
            certificate.deallocate()
            throw rc == 1 ? .keyCertificateMismatch : .invalidCertificate(rc)
        }
        keep = true
        self.init(key: key, certificate: certificate)
    }

    /// The private key PEM (SEC 1 "EC PRIVATE KEY") followed by the certificate PEM.
    public func pem() -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        let keyLength = buffer.withUnsafeMutableBufferPointer { b -> Int in
            guard mbedtls_pk_write_key_pem(key, b.baseAddress, b.count) == 0 else { return 0 }
            return b.firstIndex(of: 0) ?? 0
        }
        out.append(contentsOf: buffer[0..<keyLength])
        let raw = certificate.pointee.raw
        var written = 0
        let rc = buffer.withUnsafeMutableBufferPointer { b in
            mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                     raw.p, Int(raw.len), b.baseAddress, b.count, &written)
        }
        // `written` counts the terminating NUL.
        if rc == 0 && written > 0 { out.append(contentsOf: buffer[0..<(written - 1)]) }
        buffer.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i] = 0 }
        }
        return out
    }

    /// The DER certificate (what the fingerprint hashes).
    public var certificateDER: [UInt8] {
        let raw = certificate.pointee.raw
        return Array(UnsafeRawBufferPointer(start: raw.p, count: Int(raw.len)))
    }

    private static func newKey() -> UnsafeMutablePointer<mbedtls_pk_context> {
        let key = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedtls_pk_init(key)
        return key
    }

    private static func freeKey(_ key: UnsafeMutablePointer<mbedtls_pk_context>) {
        mbedtls_pk_free(key)
        key.deallocate()
    }

    private static func parseCertificate(der: [UInt8]) throws(DTLSError) -> UnsafeMutablePointer<mbedtls_x509_crt> {
        let certificate = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(certificate)
        let rc = der.withUnsafeBufferPointer { mbedtls_x509_crt_parse_der(certificate, $0.baseAddress, $0.count) }
        guard rc == 0 else {
            mbedtls_x509_crt_free(certificate)
            certificate.deallocate()
            throw .certificateWrite(rc)
        }
        return certificate
    }

    /// A v3 certificate for `key`, signed by itself with ECDSA-SHA256. mbedTLS writes the
    /// fields; the signature AlgorithmIdentifiers are then rewritten without parameters and the
    /// TBSCertificate signed again (RFC 5758 §3.2; see `CertificateDER`).
    private static func selfSignedCertificate(key: UnsafeMutablePointer<mbedtls_pk_context>,
                                              generator: RandomGenerator) throws(DTLSError) -> [UInt8] {
        let writer = UnsafeMutablePointer<mbedtls_x509write_cert>.allocate(capacity: 1)
        mbedtls_x509write_crt_init(writer)
        let serial = UnsafeMutablePointer<mbedtls_mpi>.allocate(capacity: 1)
        mbedtls_mpi_init(serial)
        defer {
            mbedtls_mpi_free(serial)
            serial.deallocate()
            mbedtls_x509write_crt_free(writer)
            writer.deallocate()
        }
        mbedtls_x509write_crt_set_version(writer, MBEDTLS_X509_CRT_VERSION_3)
        mbedtls_x509write_crt_set_md_alg(writer, MBEDTLS_MD_SHA256)
        mbedtls_x509write_crt_set_subject_key(writer, key)
        mbedtls_x509write_crt_set_issuer_key(writer, key)
        // RFC 5280 §4.1.2.2: a positive serial of at most 20 bytes; 16 random bytes with the
        // top bit clear and the next one set, so it is positive and keeps its length.
        var serialBytes = [UInt8](repeating: 0, count: 16)
        var rc = serialBytes.withUnsafeMutableBytes { generator.fill($0) }
        serialBytes[0] = (serialBytes[0] & 0x3F) | 0x40
        if rc == 0 { rc = mbedtls_mpi_read_binary(serial, serialBytes, serialBytes.count) }
        if rc == 0 { rc = mbedtls_x509write_crt_set_serial(writer, serial) }
        if rc == 0 { rc = mbedtls_x509write_crt_set_subject_name(writer, "CN=ice-agent") }
        if rc == 0 { rc = mbedtls_x509write_crt_set_issuer_name(writer, "CN=ice-agent") }
        if rc == 0 { rc = mbedtls_x509write_crt_set_validity(writer, notBefore, notAfter) }
        guard rc == 0 else { throw .certificateWrite(rc) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        // Written at the end of the buffer; the length is returned.
        let n = buffer.withUnsafeMutableBufferPointer { b in
            mbedtls_x509write_crt_der(writer, b.baseAddress, b.count, mbedtls_ctr_drbg_random,
                                      UnsafeMutableRawPointer(generator.context))
        }
        guard n > 0 else { throw .certificateWrite(n) }
        let tbs = try CertificateDER.ecdsaWithSHA256TBS(of: Array(buffer[(buffer.count - Int(n))...]))
        return try CertificateDER.certificate(tbs: tbs, signature: sign(tbs, key: key, generator: generator)[...])
    }

    /// The DER ECDSA-Sig-Value over SHA-256(`data`) (RFC 5758 §3.2).
    private static func sign(_ data: [UInt8], key: UnsafeMutablePointer<mbedtls_pk_context>,
                             generator: RandomGenerator) throws(DTLSError) -> [UInt8] {
        var digest = InlineArray<32, UInt8>(repeating: 0)
        data.withUnsafeBytes { sha256($0, into: &digest) }
        var hash = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 { hash[i] = digest[i] }
        // A P-256 ECDSA-Sig-Value is at most 72 bytes.
        var signature = [UInt8](repeating: 0, count: 80)
        var length = 0
        let rc = signature.withUnsafeMutableBufferPointer { s in
            hash.withUnsafeBufferPointer { h in
                ice_pk_sign(key, MBEDTLS_MD_SHA256, h.baseAddress, h.count, s.baseAddress, s.count, &length,
                            mbedtls_ctr_drbg_random, UnsafeMutableRawPointer(generator.context))
            }
        }
        guard rc == 0, length > 0, length <= signature.count else { throw .certificateWrite(rc) }
        return Array(signature[0..<length])
    }
}
