import CMbedTLS

/// An HMAC-SHA1 key prepared once: the hash states after the inner and outer pads are kept, so
/// each message costs only the compression of its own bytes plus one outer block
/// (RFC 2104 §4 notes this precomputation). No heap: mbedTLS's SHA-1 context is a plain struct.
public struct HMACSHA1Key: Sendable {
    var inner = mbedtls_sha1_context()
    var outer = mbedtls_sha1_context()

    public init(key: UnsafeRawBufferPointer) {
        var block = InlineArray<64, UInt8>(repeating: 0)
        if key.count > 64 {
            // RFC 2104 §2: keys longer than the block are hashed first.
            var ctx = mbedtls_sha1_context()
            _ = ice_sha1_starts(&ctx)
            _ = ice_sha1_update(&ctx, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count)
            var mutableBlock = block.mutableSpan
            mutableBlock.withUnsafeMutableBytes { out in
                _ = ice_sha1_finish(&ctx, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        } else {
            for i in 0..<key.count { block[i] = key[i] }
        }
        inner = Self.padded(block, 0x36)
        outer = Self.padded(block, 0x5C)
    }

    private static func padded(_ block: InlineArray<64, UInt8>, _ pad: UInt8) -> mbedtls_sha1_context {
        var padBlock = block
        for i in 0..<64 { padBlock[i] ^= pad }
        var ctx = mbedtls_sha1_context()
        _ = ice_sha1_starts(&ctx)
        padBlock.span.withUnsafeBytes { p in
            _ = ice_sha1_update(&ctx, p.baseAddress!.assumingMemoryBound(to: UInt8.self), 64)
        }
        return ctx
    }

    /// Starts a MAC computation; feed it with `update` and close it with `finish`.
    @inline(__always)
    public func start() -> HMACSHA1 { HMACSHA1(state: inner, outer: outer) }

    /// HMAC of one contiguous buffer.
    public func authenticate(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        var mac = start()
        mac.update(data)
        mac.finish(into: out)
    }
}

/// An HMAC-SHA1 computation in progress (value type, on the stack).
public struct HMACSHA1 {
    var state: mbedtls_sha1_context
    let outer: mbedtls_sha1_context

    @inline(__always)
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, !data.isEmpty else { return }
        _ = ice_sha1_update(&state, base.assumingMemoryBound(to: UInt8.self), data.count)
    }

    /// Writes the 20-byte MAC to the start of `out` (which must hold 20 bytes).
    public mutating func finish(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 20)
        let p = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        _ = ice_sha1_finish(&state, p)
        var o = outer
        _ = ice_sha1_update(&o, p, 20)
        _ = ice_sha1_finish(&o, p)
    }
}

/// An HMAC-SHA256 key prepared once (see `HMACSHA1Key`).
public struct HMACSHA256Key: Sendable {
    var inner = mbedtls_sha256_context()
    var outer = mbedtls_sha256_context()

    public init(key: UnsafeRawBufferPointer) {
        var block = InlineArray<64, UInt8>(repeating: 0)
        if key.count > 64 {
            var digest = InlineArray<32, UInt8>(repeating: 0)
            sha256(key, into: &digest)
            for i in 0..<32 { block[i] = digest[i] }
        } else {
            for i in 0..<key.count { block[i] = key[i] }
        }
        inner = Self.padded(block, 0x36)
        outer = Self.padded(block, 0x5C)
    }

    private static func padded(_ block: InlineArray<64, UInt8>, _ pad: UInt8) -> mbedtls_sha256_context {
        var padBlock = block
        for i in 0..<64 { padBlock[i] ^= pad }
        var ctx = mbedtls_sha256_context()
        _ = ice_sha256_starts(&ctx)
        padBlock.span.withUnsafeBytes { p in
            _ = ice_sha256_update(&ctx, p.baseAddress!.assumingMemoryBound(to: UInt8.self), 64)
        }
        return ctx
    }

    @inline(__always)
    public func start() -> HMACSHA256 { HMACSHA256(state: inner, outer: outer) }

    public func authenticate(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        var mac = start()
        mac.update(data)
        mac.finish(into: out)
    }
}

public struct HMACSHA256 {
    var state: mbedtls_sha256_context
    let outer: mbedtls_sha256_context

    @inline(__always)
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, !data.isEmpty else { return }
        _ = ice_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), data.count)
    }

    /// Writes the 32-byte MAC to the start of `out` (which must hold 32 bytes).
    public mutating func finish(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32)
        let p = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        _ = ice_sha256_finish(&state, p)
        var o = outer
        _ = ice_sha256_update(&o, p, 32)
        _ = ice_sha256_finish(&o, p)
    }
}
