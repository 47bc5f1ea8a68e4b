import Crypto
import Testing

@Suite struct CryptoTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    @Test func crc32KnownValues() {
        // The standard check value, and lengths that exercise the 8-byte steps and the tail.
        #expect(bytes("123456789").withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
        #expect(bytes("The quick brown fox jumps over the lazy dog").withUnsafeBytes { CRC32.checksum($0) } == 0x414F_A339)
        // Incremental updates in odd pieces equal one pass.
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = data.withUnsafeBytes { CRC32.checksum($0) }
        var crc = CRC32()
        data.withUnsafeBytes { raw in
            var i = 0, step = 1
            while i < raw.count {
                let end = min(raw.count, i + step)
                crc.update(UnsafeRawBufferPointer(rebasing: raw[i..<end]))
                i = end
                step = step % 13 + 1
            }
        }
        #expect(crc.checksum == whole)
    }

    func hmacSHA1(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        let k = key.withUnsafeBytes { HMACSHA1Key(key: $0) }
        data.withUnsafeBytes { d in out.withUnsafeMutableBytes { k.authenticate(d, into: $0) } }
        return out
    }

    func hmacSHA256(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let k = key.withUnsafeBytes { HMACSHA256Key(key: $0) }
        data.withUnsafeBytes { d in out.withUnsafeMutableBytes { k.authenticate(d, into: $0) } }
        return out
    }

    /// RFC 2202 §3 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    @Test func hmacSHA1RFC2202() {
        #expect(hmacSHA1([UInt8](repeating: 0x0B, count: 20), bytes("Hi There")) == hex("b617318655057264e28bc0b6fb378c8ef146be00"))
        #expect(hmacSHA1(bytes("Jefe"), bytes("what do ya want for nothing?")) == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
        #expect(hmacSHA1([UInt8](repeating: 0xAA, count: 80), bytes("Test Using Larger Than Block-Size Key - Hash Key First"))
                == hex("aa4ae5e15272d00e95705637ce8a3b55ed402112"))
    }

    /// RFC 4231 §4.2, 4.3 and 4.7 (131-byte key).
    @Test func hmacSHA256RFC4231() {
        #expect(hmacSHA256([UInt8](repeating: 0x0B, count: 20), bytes("Hi There"))
                == hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"))
        #expect(hmacSHA256(bytes("Jefe"), bytes("what do ya want for nothing?"))
                == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        #expect(hmacSHA256([UInt8](repeating: 0xAA, count: 131), bytes("Test Using Larger Than Block-Size Key - Hash Key First"))
                == hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
    }

    /// A prepared key is reusable: the same MAC every time, and pieces equal one pass.
    @Test func preparedKeyIsReusable() {
        let key = bytes("Jefe").withUnsafeBytes { HMACSHA1Key(key: $0) }
        let data = bytes("what do ya want for nothing?")
        var first = [UInt8](repeating: 0, count: 20), pieces = [UInt8](repeating: 0, count: 20)
        data.withUnsafeBytes { d in first.withUnsafeMutableBytes { key.authenticate(d, into: $0) } }
        data.withUnsafeBytes { d in
            var mac = key.start()
            mac.update(UnsafeRawBufferPointer(rebasing: d[0..<5]))
            mac.update(UnsafeRawBufferPointer(rebasing: d[5...]))
            pieces.withUnsafeMutableBytes { mac.finish(into: $0) }
        }
        #expect(first == pieces)
        #expect(first == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
    }

    @Test func constantTimeCompare() {
        #expect([1, 2, 3].withUnsafeBytes { a in [1, 2, 3].withUnsafeBytes { constantTimeEqual(a, $0) } })
        #expect(![1, 2, 3].withUnsafeBytes { a in [1, 2, 4].withUnsafeBytes { constantTimeEqual(a, $0) } })
        #expect(![1, 2, 3].withUnsafeBytes { a in [1, 2].withUnsafeBytes { constantTimeEqual(a, $0) } })
    }
}
