import CMbedTLS

/// The DER layout of an X.509 certificate (RFC 5280 §4.1) as far as re-signing it needs:
/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }`
/// with `TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, ... }`.
/// mbedTLS 2.28's certificate writer encodes ecdsa-with-SHA256 with NULL parameters, which
/// RFC 5758 §3.2 forbids ("the encoding MUST omit the parameters field") and strict parsers
/// (rust-asn1 in Python `cryptography`, hence aiortc) reject; `ecdsaWithSHA256Certificate`
/// rebuilds the certificate with both AlgorithmIdentifiers parameterless.
struct CertificateDER {
    /// `SEQUENCE { OID 1.2.840.10045.4.3.2 }`: ecdsa-with-SHA256 without parameters
    /// (RFC 5758 §3.2).
    static let ecdsaWithSHA256: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
    /// The certificates handled here are ours (about 400 bytes); a 3-byte length is plenty.
    static let maximumLengthOctets = 3

    /// The whole TBSCertificate element.
    let tbs: Range<Int>
    /// TBSCertificate.signature, the whole AlgorithmIdentifier element.
    let tbsSignatureAlgorithm: Range<Int>
    /// Certificate.signatureAlgorithm, the whole AlgorithmIdentifier element.
    let signatureAlgorithm: Range<Int>
    /// The signature bytes inside the BIT STRING (after its unused-bits octet).
    let signature: Range<Int>

    /// One definite-length DER element: where its header starts, its content, its end.
    struct Element {
        let tag: UInt8
        let start: Int
        let content: Range<Int>
        var whole: Range<Int> { start..<content.upperBound }
    }

    init(_ der: [UInt8]) throws(DTLSError) {
        let certificate = try Self.element(der, at: 0, end: der.count, tag: 0x30)
        guard certificate.content.upperBound == der.count else { throw .certificateWrite(MBEDTLS_ERR_ASN1_LENGTH_MISMATCH) }
        let tbsElement = try Self.element(der, at: certificate.content.lowerBound, end: der.count, tag: 0x30)
        var at = tbsElement.content.lowerBound
        let end = tbsElement.content.upperBound
        // RFC 5280 §4.1: version is [0] EXPLICIT, absent for v1.
        if at < end && der[at] == 0xA0 { at = try Self.element(der, at: at, end: end, tag: 0xA0).content.upperBound }
        at = try Self.element(der, at: at, end: end, tag: 0x02).content.upperBound
        let inner = try Self.element(der, at: at, end: end, tag: 0x30)
        let outer = try Self.element(der, at: tbsElement.content.upperBound, end: der.count, tag: 0x30)
        let value = try Self.element(der, at: outer.content.upperBound, end: der.count, tag: 0x03)
        guard value.content.upperBound == der.count, value.content.count >= 2,
              der[value.content.lowerBound] == 0 else { throw .certificateWrite(MBEDTLS_ERR_ASN1_INVALID_DATA) }
        tbs = tbsElement.whole
        tbsSignatureAlgorithm = inner.whole
        signatureAlgorithm = outer.whole
        signature = (value.content.lowerBound + 1)..<value.content.upperBound
    }

    /// The TBSCertificate of `der` with its signature AlgorithmIdentifier replaced by the
    /// parameterless ecdsa-with-SHA256 (RFC 5758 §3.2). Refuses any other algorithm, so a
    /// certificate is never relabelled.
    static func ecdsaWithSHA256TBS(of der: [UInt8]) throws(DTLSError) -> [UInt8] {
        let layout = try CertificateDER(der)
        guard isECDSAWithSHA256(der[layout.tbsSignatureAlgorithm]) else {
            throw .certificateWrite(MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG)
        }
        let content = layout.tbs.lowerBound + headerLength(der, at: layout.tbs.lowerBound)
        var body: [UInt8] = []
        body.reserveCapacity(layout.tbs.count)
        body.append(contentsOf: der[content..<layout.tbsSignatureAlgorithm.lowerBound])
        body.append(contentsOf: ecdsaWithSHA256)
        body.append(contentsOf: der[layout.tbsSignatureAlgorithm.upperBound..<layout.tbs.upperBound])
        return tlv(0x30, body)
    }

    /// `Certificate ::= SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING { 0 unused bits, signature } }`
    /// (RFC 5280 §4.1.1.3; RFC 5758 §3.2: the signature is the DER ECDSA-Sig-Value).
    static func certificate(tbs: [UInt8], signature: ArraySlice<UInt8>) -> [UInt8] {
        var bitString: [UInt8] = [0x00]
        bitString.append(contentsOf: signature)
        var body = tbs
        body.append(contentsOf: ecdsaWithSHA256)
        body.append(contentsOf: tlv(0x03, bitString))
        return tlv(0x30, body)
    }

    /// An ecdsa-with-SHA256 AlgorithmIdentifier, with or without the NULL that mbedTLS adds.
    static func isECDSAWithSHA256(_ algorithm: ArraySlice<UInt8>) -> Bool {
        if algorithm.elementsEqual(ecdsaWithSHA256) { return true }
        // The same OID followed by NULL: SEQUENCE length 0x0C.
        guard algorithm.count == ecdsaWithSHA256.count + 2 else { return false }
        let s = algorithm.startIndex
        return algorithm[s] == 0x30 && algorithm[s + 1] == 0x0C
            && algorithm[(s + 2)..<(s + 12)].elementsEqual(ecdsaWithSHA256[2...])
            && algorithm[s + 12] == 0x05 && algorithm[s + 13] == 0x00
    }

    /// A definite-length element with tag `tag` at `at`, wholly before `end`.
    static func element(_ der: [UInt8], at: Int, end: Int, tag: UInt8) throws(DTLSError) -> Element {
        guard at >= 0, end <= der.count, at + 2 <= end, der[at] == tag else {
            throw .certificateWrite(MBEDTLS_ERR_ASN1_UNEXPECTED_TAG)
        }
        var length = Int(der[at + 1])
        var header = 2
        if length >= 0x80 {
            // X.690 §10.1: DER lengths are definite, in the fewest octets.
            let octets = length & 0x7F
            guard octets >= 1, octets <= maximumLengthOctets, at + 2 + octets <= end,
                  der[at + 2] != 0 else { throw .certificateWrite(MBEDTLS_ERR_ASN1_INVALID_LENGTH) }
            length = 0
            for i in 0..<octets { length = length << 8 | Int(der[at + 2 + i]) }
            guard length >= 0x80 else { throw .certificateWrite(MBEDTLS_ERR_ASN1_INVALID_LENGTH) }
            header += octets
        }
        guard length <= end - at - header else { throw .certificateWrite(MBEDTLS_ERR_ASN1_OUT_OF_DATA) }
        return Element(tag: tag, start: at, content: (at + header)..<(at + header + length))
    }

    /// The header length of the (already checked) element at `at`.
    static func headerLength(_ der: [UInt8], at: Int) -> Int {
        let length = der[at + 1]
        return length < 0x80 ? 2 : 2 + Int(length & 0x7F)
    }

    /// Tag, DER length (short form below 128, else the fewest octets; X.690 §10.1), content.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else {
            var octets: [UInt8] = []
            var rest = n
            while rest > 0 {
                octets.insert(UInt8(rest & 0xFF), at: 0)
                rest >>= 8
            }
            out.append(0x80 | UInt8(octets.count))
            out.append(contentsOf: octets)
        }
        out.append(contentsOf: content)
        return out
    }
}
