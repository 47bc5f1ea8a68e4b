import CMbedTLS

/// SHA-256 of `data` (used for long-term keys with PASSWORD-ALGORITHM SHA-256 and USERHASH).
public func sha256(_ data: UnsafeRawBufferPointer, into out: inout InlineArray<32, UInt8>) {
    var ctx = mbedtls_sha256_context()
    _ = ice_sha256_starts(&ctx)
    if let base = data.baseAddress, !data.isEmpty {
        _ = ice_sha256_update(&ctx, base.assumingMemoryBound(to: UInt8.self), data.count)
    }
    var span = out.mutableSpan
    span.withUnsafeMutableBytes { o in
        _ = ice_sha256_finish(&ctx, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
}

/// SHA-256 over several parts, as if concatenated.
public func sha256(parts: UnsafeRawBufferPointer..., into out: inout InlineArray<32, UInt8>) {
    var ctx = mbedtls_sha256_context()
    _ = ice_sha256_starts(&ctx)
    for data in parts {
        if let base = data.baseAddress, !data.isEmpty {
            _ = ice_sha256_update(&ctx, base.assumingMemoryBound(to: UInt8.self), data.count)
        }
    }
    var span = out.mutableSpan
    span.withUnsafeMutableBytes { o in
        _ = ice_sha256_finish(&ctx, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
}

/// MD5 of `data`: only for the RFC 8489 §9.2.2 long-term key, which the RFC defines with MD5.
public func md5(_ data: UnsafeRawBufferPointer, into out: inout InlineArray<16, UInt8>) {
    var span = out.mutableSpan
    span.withUnsafeMutableBytes { o in
        _ = ice_md5(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
}

/// Compares two equal-length byte strings in time independent of where they differ, so a MAC
/// check leaks nothing about how many leading bytes of a forged MAC were right.
public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
