import CMbedTLS
import Common

/// mbedTLS's random generator (key generation, handshake randoms, ECDHE, ECDSA nonces): a
/// CTR_DRBG seeded once from the caller's `RandomSource`, so the module reads no device of its
/// own. The seed is drawn up front because the source is a generic value that cannot be kept.
final class RandomGenerator {
    let context: UnsafeMutablePointer<mbedtls_ctr_drbg_context>

    /// Seed bytes handed to CTR_DRBG: entropy and nonce (48 + 24 with the default SHA-512
    /// entropy length), with room to spare.
    static let seedLength = 128

    /// Draws the seed from `random`. (Embedded Swift allows a generic initializer on a class
    /// only as a convenience one.)
    convenience init<R: RandomSource>(random: inout R) throws(DTLSError) {
        var seed = [UInt8](repeating: 0, count: Self.seedLength)
        var offset = 0
        while offset < Self.seedLength {
            let word = random.next()
            for i in 0..<8 { seed[offset + i] = UInt8(truncatingIfNeeded: word >> UInt64(8 * i)) }
            offset += 8
        }
        defer { for i in seed.indices { seed[i] = 0 } }
        try self.init(seed: seed)
    }

    init(seed: [UInt8]) throws(DTLSError) {
        context = .allocate(capacity: 1)
        mbedtls_ctr_drbg_init(context)
        // Layout: consumed count (Int), then the seed bytes.
        let header = MemoryLayout<Int>.stride
        let pool = UnsafeMutableRawPointer.allocate(byteCount: header + Self.seedLength, alignment: 8)
        defer {
            pool.initializeMemory(as: UInt8.self, repeating: 0, count: header + Self.seedLength)
            pool.deallocate()
        }
        pool.initializeMemory(as: UInt8.self, repeating: 0, count: header + Self.seedLength)
        pool.storeBytes(of: 0, as: Int.self)
        seed.withUnsafeBytes { (pool + header).copyMemory(from: $0.baseAddress!, byteCount: min($0.count, Self.seedLength)) }
        let rc = mbedtls_ctr_drbg_seed(context, seedEntropy, pool, nil, 0)
        // Throwing here runs deinit, which frees the context.
        if rc != 0 { throw .randomSeed(rc) }
        // No reseed: the source is not reachable later, and an endpoint draws far fewer
        // blocks than CTR_DRBG's limit (NIST SP 800-90A: 2^48 requests).
        mbedtls_ctr_drbg_set_reseed_interval(context, Int32.max)
    }

    deinit {
        mbedtls_ctr_drbg_free(context)
        context.deallocate()
    }

    /// Fills `buffer` (serial numbers).
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int32 {
        guard let base = buffer.baseAddress else { return 0 }
        return mbedtls_ctr_drbg_random(UnsafeMutableRawPointer(context), base.assumingMemoryBound(to: UInt8.self), buffer.count)
    }
}

/// CTR_DRBG's entropy callback: hands out the pre-drawn seed; asking for more than it holds
/// fails rather than repeating bytes.
private func seedEntropy(_ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let context, let out else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
    let used = context.load(as: Int.self)
    guard length <= RandomGenerator.seedLength - used else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
    UnsafeMutableRawPointer(out).copyMemory(from: context + MemoryLayout<Int>.stride + used, byteCount: length)
    context.storeBytes(of: used + length, as: Int.self)
    return 0
}
