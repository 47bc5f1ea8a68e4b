import CMbedTLS

/// An SRTP transform written out from the RFCs on mbedTLS's AES and HMAC, independent of
/// libsrtp: the key derivation (RFC 3711 §4.3), AES-CM with HMAC-SHA1 (RFC 3711 §4.1.1,
/// §4.2) and AEAD_AES_128_GCM (RFC 7714 §8.1, §9.1). It is pinned to the RFCs' own vectors,
/// then SRTPSession is checked against it.
enum Reference {
    /// AES-128 of one block.
    static func aes(_ key: [UInt8], _ block: [UInt8]) -> [UInt8] {
        var ctx = mbedtls_cipher_context_t()
        mbedtls_cipher_init(&ctx)
        defer { mbedtls_cipher_free(&ctx) }
        var out = [UInt8](repeating: 0, count: 32)
        var n = 0
        precondition(mbedtls_cipher_setup(&ctx, mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB)) == 0)
        precondition(mbedtls_cipher_setkey(&ctx, key, 128, MBEDTLS_ENCRYPT) == 0)
        precondition(mbedtls_cipher_update(&ctx, block, 16, &out, &n) == 0)
        return Array(out[0..<16])
    }

    /// RFC 3711 §4.1.1: the keystream E(k, IV) || E(k, IV + 1) || ..., `count` bytes.
    static func keystream(_ key: [UInt8], iv: [UInt8], count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var j = 0
        while out.count < count {
            var block = iv
            block[14] ^= UInt8(j >> 8)
            block[15] ^= UInt8(j & 0xFF)
            out += aes(key, block)
            j += 1
        }
        return Array(out[0..<count])
    }

    /// RFC 3711 §4.3.1 with a key derivation rate of 0: x = label at octet 7 XOR the master
    /// salt, the AES-CM PRF from x·2^16. A 96-bit master salt (RFC 7714 §11) is the high bits.
    static func derive(masterKey: [UInt8], masterSalt: [UInt8], label: UInt8, count: Int) -> [UInt8] {
        var x = masterSalt + [UInt8](repeating: 0, count: 14 - masterSalt.count)
        x[7] ^= label
        return keystream(masterKey, iv: x + [0, 0], count: count)
    }

    struct Keys {
        var key: [UInt8]
        var salt: [UInt8]
        var auth: [UInt8]
    }

    /// RFC 3711 §4.3.2: SRTP's labels 0 (encryption), 1 (authentication), 2 (salt).
    static func srtpKeys(masterKey: [UInt8], masterSalt: [UInt8]) -> Keys {
        Keys(key: derive(masterKey: masterKey, masterSalt: masterSalt, label: 0, count: 16),
             salt: derive(masterKey: masterKey, masterSalt: masterSalt, label: 2, count: masterSalt.count),
             auth: derive(masterKey: masterKey, masterSalt: masterSalt, label: 1, count: 20))
    }

    /// RFC 7714 §8.1: the 12-octet IV, 00 00 || SSRC || ROC || SEQ XOR the salt.
    static func gcmIV(salt: [UInt8], rtp: [UInt8], roc: UInt32) -> [UInt8] {
        let field: [UInt8] = [0, 0] + Array(rtp[8..<12])
            + [UInt8(roc >> 24), UInt8((roc >> 16) & 0xFF), UInt8((roc >> 8) & 0xFF), UInt8(roc & 0xFF)]
            + Array(rtp[2..<4])
        return zip(field, salt).map { $0 ^ $1 }
    }

    /// RFC 7714 §9.1 for a 12-octet header: the header as associated data, payload encrypted,
    /// 16-octet tag after it.
    static func protectGCM(_ rtp: [UInt8], key: [UInt8], salt: [UInt8], roc: UInt32 = 0) -> [UInt8] {
        let iv = gcmIV(salt: salt, rtp: rtp, roc: roc)
        let header = Array(rtp[0..<12]), payload = Array(rtp[12...])
        var ctx = mbedtls_cipher_context_t()
        mbedtls_cipher_init(&ctx)
        defer { mbedtls_cipher_free(&ctx) }
        var out = [UInt8](repeating: 0, count: payload.count + 16)
        var n = 0
        precondition(mbedtls_cipher_setup(&ctx, mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_GCM)) == 0)
        precondition(mbedtls_cipher_setkey(&ctx, key, 128, MBEDTLS_ENCRYPT) == 0)
        precondition(mbedtls_cipher_auth_encrypt_ext(&ctx, iv, iv.count, header, header.count, payload, payload.count,
                                                     &out, out.count, &n, 16) == 0)
        return header + out[0..<n]
    }

    /// RFC 3711 §4.1.1 and §4.2 for a 12-octet header: IV = salt·2^16 XOR SSRC·2^64 XOR
    /// index·2^16, and HMAC-SHA1 over the packet and the ROC, truncated to 80 bits.
    static func protectCM(_ rtp: [UInt8], keys: Keys, roc: UInt32 = 0) -> [UInt8] {
        var iv = keys.salt + [0, 0]
        for i in 0..<4 { iv[4 + i] ^= rtp[8 + i] }
        let index: [UInt8] = [UInt8(roc >> 24), UInt8((roc >> 16) & 0xFF), UInt8((roc >> 8) & 0xFF), UInt8(roc & 0xFF)]
            + Array(rtp[2..<4])
        for i in 0..<6 { iv[8 + i] ^= index[i] }
        let payload = Array(rtp[12...])
        let stream = keystream(keys.key, iv: iv, count: payload.count)
        let packet = Array(rtp[0..<12]) + zip(payload, stream).map { $0 ^ $1 }
        let authenticated = packet + Array(index[0..<4])
        var mac = [UInt8](repeating: 0, count: 20)
        precondition(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), keys.auth, keys.auth.count,
                                     authenticated, authenticated.count, &mac) == 0)
        return packet + mac[0..<10]
    }
}
