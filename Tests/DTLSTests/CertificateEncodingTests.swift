import CMbedTLS
import Common
import Crypto
import Foundation
import Testing
@testable import DTLS

/// The self-signed certificate's encoding (RFC 5280 §4.1, RFC 5758 §3.2): ecdsa-with-SHA256
/// without parameters in both AlgorithmIdentifiers, signed over the TBSCertificate as sent.
/// Strict parsers (rust-asn1 behind Python `cryptography`, hence aiortc) refuse a NULL there.
@Suite struct CertificateEncodingTests {
    static let ecdsaWithSHA256OID: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]

    /// An identity file written before the AlgorithmIdentifiers were fixed: its certificate has
    /// `30 0C 06 08 2A 86 48 CE 3D 04 03 02 05 00` in both places.
    static let nullParametersPEM = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEIDEJYZ1MiMoDAE+aqgR3R0fYpwA4ImsejdxTrnoluwWhoAoGCCqGSM49
        AwEHoUQDQgAE3QRMVE2c+w8MkVCD3pxah4Y40VOKOH4f0Mr5LgJCZb1rtoMiMdD4
        WXCgPEwB/zg+p85nL7N9JQ506zSZCxHPZg==
        -----END EC PRIVATE KEY-----
        -----BEGIN CERTIFICATE-----
        MIIBLTCB0qADAgECAhBHo5sNSzMCFihU9gKJBLaGMAwGCCqGSM49BAMCBQAwFDES
        MBAGA1UEAwwJaWNlLWFnZW50MCAXDTI1MDEwMTAwMDAwMFoYDzIwOTkxMjMxMjM1
        OTU5WjAUMRIwEAYDVQQDDAlpY2UtYWdlbnQwWTATBgcqhkjOPQIBBggqhkjOPQMB
        BwNCAATdBExUTZz7DwyRUIPenFqHhjjRU4o4fh/QyvkuAkJlvWu2gyIx0PhZcKA8
        TAH/OD6nzmcvs30lDnTrNJkLEc9mowIwADAMBggqhkjOPQQDAgUAA0gAMEUCIQDa
        WK7E1VLogJ7pw18Yu/fFKv8PyI3HFUWckyns1W44EAIgBChZrJX7KyFGEnuAc8+6
        eDikw+2mzsZIW4YhQD0+KbQ=
        -----END CERTIFICATE-----

        """

    static func generated(seed: UInt64) throws -> DTLSIdentity {
        var random = SeededRandom(seed: seed)
        return try DTLSIdentity.generate(random: &random)
    }

    /// Offsets of `needle` in `haystack`.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard haystack.count >= needle.count else { return [] }
        return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test func bothSignatureAlgorithmsOmitTheParameters() throws {
        for seed: UInt64 in [21, 22, 23] {
            let der = try Self.generated(seed: seed).certificateDER
            // The OID appears exactly twice, each time as the whole content of a 10-byte
            // SEQUENCE (RFC 5758 §3.2), never followed by NULL.
            let hits = Self.occurrences(of: Self.ecdsaWithSHA256OID, in: der)
            #expect(hits.count == 2)
            for at in hits {
                #expect(at >= 2 && der[at - 2] == 0x30 && der[at - 1] == 0x0A)
                #expect(!(der[at + 10] == 0x05 && der[at + 11] == 0x00))
            }
            let layout = try CertificateDER(der)
            #expect(Array(der[layout.tbsSignatureAlgorithm]) == CertificateDER.ecdsaWithSHA256)
            #expect(Array(der[layout.signatureAlgorithm]) == CertificateDER.ecdsaWithSHA256)
            // The outer SEQUENCE spans the whole certificate with a minimal length.
            #expect(der[0] == 0x30 && der[1] == 0x82 && Int(der[2]) << 8 | Int(der[3]) == der.count - 4)
        }
    }

    @Test func mbedTLSParsesItAndTheSignatureVerifiesWithItsOwnKey() throws {
        let identity = try Self.generated(seed: 24)
        let der = identity.certificateDER
        #expect(Self.signatureVerifies(der) == 0)
        // The check can fail: one bit changed in the subject name breaks the signature.
        var tampered = der
        let name = Self.occurrences(of: Array("ice-agent".utf8), in: der)
        try #require(!name.isEmpty)
        tampered[name[0]] ^= 0x20
        #expect(Self.signatureVerifies(tampered) == MBEDTLS_ERR_ECP_VERIFY_FAILED)
    }

    /// mbedTLS's parse of `der`, then ECDSA verification of its signature over SHA-256 of the
    /// TBSCertificate with the certificate's own public key: 0, or the mbedTLS error code.
    static func signatureVerifies(_ der: [UInt8]) -> Int32 {
        var certificate = mbedtls_x509_crt()
        mbedtls_x509_crt_init(&certificate)
        defer { mbedtls_x509_crt_free(&certificate) }
        var rc = der.withUnsafeBufferPointer { mbedtls_x509_crt_parse_der(&certificate, $0.baseAddress, $0.count) }
        guard rc == 0 else { return rc }
        guard certificate.sig_md == MBEDTLS_MD_SHA256, certificate.sig_pk == MBEDTLS_PK_ECDSA else { return -1 }
        var digest = InlineArray<32, UInt8>(repeating: 0)
        sha256(UnsafeRawBufferPointer(start: certificate.tbs.p, count: certificate.tbs.len), into: &digest)
        var hash = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 { hash[i] = digest[i] }
        rc = hash.withUnsafeBufferPointer { h in
            mbedtls_pk_verify(&certificate.pk, MBEDTLS_MD_SHA256, h.baseAddress, h.count, certificate.sig.p, certificate.sig.len)
        }
        return rc
    }

    @Test func identityFilesWithNullParametersStillLoadAndHandshake() throws {
        let pem = Array(Self.nullParametersPEM.utf8)
        let old = try pem.withUnsafeBytes { try DTLSIdentity(pem: $0) }
        // Loaded as is: the certificate (and so the fingerprint peers pinned) is unchanged.
        let der = old.certificateDER
        #expect(Self.occurrences(of: Self.ecdsaWithSHA256OID + [0x05, 0x00], in: der).count == 2)
        #expect(old.pem() == pem)
        #expect(Self.signatureVerifies(der) == 0)
        var random = SeededRandom(seed: 25)
        let new = try DTLSIdentity.generate(random: &random)
        let client = try DTLSEndpoint(role: .client, identity: old, remoteFingerprint: new.fingerprint, random: &random)
        let server = try DTLSEndpoint(role: .server, identity: new, remoteFingerprint: old.fingerprint, random: &random)
        client.start(now: .zero)
        for _ in 0..<10 {
            while let d = client.pollTransmit() { d.withUnsafeBytes { server.handle(datagram: $0, now: .zero) } }
            while let d = server.pollTransmit() { d.withUnsafeBytes { client.handle(datagram: $0, now: .zero) } }
        }
        #expect(client.state == .connected && server.state == .connected)
    }

    @Test func theRewrittenTBSDiffersOnlyByTheNull() throws {
        let pem = Array(Self.nullParametersPEM.utf8)
        let der = try pem.withUnsafeBytes { try DTLSIdentity(pem: $0) }.certificateDER
        let layout = try CertificateDER(der)
        let old = Array(der[layout.tbs])
        let new = try CertificateDER.ecdsaWithSHA256TBS(of: der)
        // 30 81 D2 → 30 81 D0: the same fields, the NULL (2 bytes) gone from the algorithm.
        #expect(Array(old[0..<3]) == [0x30, 0x81, 0xD2])
        #expect(Array(new[0..<3]) == [0x30, 0x81, 0xD0])
        let at = layout.tbsSignatureAlgorithm.lowerBound - layout.tbs.lowerBound
        #expect(Array(new[3..<at]) == Array(old[3..<at]))
        #expect(Array(new[at..<(at + 12)]) == CertificateDER.ecdsaWithSHA256)
        #expect(Array(new[(at + 12)...]) == Array(old[(at + 14)...]))
        // Any other algorithm is refused rather than relabelled (sha256WithRSAEncryption).
        var rsa = der
        let oid = layout.tbsSignatureAlgorithm.lowerBound + 4
        rsa.replaceSubrange(oid..<(oid + 8), with: [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01])
        #expect(throws: DTLSError.self) { try CertificateDER.ecdsaWithSHA256TBS(of: rsa) }
    }

    @Test func derLengthsUseTheShortestForm() throws {
        // X.690 §10.1: short form below 128, else the fewest length octets.
        #expect(Array(CertificateDER.tlv(0x04, [UInt8](repeating: 1, count: 127))[0..<2]) == [0x04, 0x7F])
        #expect(Array(CertificateDER.tlv(0x04, [UInt8](repeating: 1, count: 128))[0..<3]) == [0x04, 0x81, 0x80])
        #expect(Array(CertificateDER.tlv(0x04, [UInt8](repeating: 1, count: 255))[0..<3]) == [0x04, 0x81, 0xFF])
        #expect(Array(CertificateDER.tlv(0x04, [UInt8](repeating: 1, count: 256))[0..<4]) == [0x04, 0x82, 0x01, 0x00])
        #expect(CertificateDER.tlv(0x04, [UInt8](repeating: 1, count: 300)).count == 304)
        // The reader takes back what the writer wrote, and refuses what DER forbids.
        for n in [0, 1, 127, 128, 255, 256, 1000] {
            let encoded = CertificateDER.tlv(0x30, [UInt8](repeating: 7, count: n))
            let e = try CertificateDER.element(encoded, at: 0, end: encoded.count, tag: 0x30)
            #expect(e.content.count == n && e.content.upperBound == encoded.count)
        }
        let refused: [[UInt8]] = [
            [0x30, 0x80, 0x00, 0x00],        // indefinite length
            [0x30, 0x81, 0x05, 0, 0, 0, 0, 0], // long form for a short length
            [0x30, 0x82, 0x00, 0x80] + [UInt8](repeating: 0, count: 128), // leading zero octet
            [0x30, 0x05, 0, 0],              // runs past the end
            [0x31, 0x00],                    // wrong tag
            [0x30],                          // no length
            [0x30, 0x84, 0, 0, 0, 1, 0],     // more length octets than a certificate needs
        ]
        for bytes in refused {
            #expect(throws: DTLSError.self) { try CertificateDER.element(bytes, at: 0, end: bytes.count, tag: 0x30) }
        }
    }
}
