import Common
import Crypto

/// Outcome of checking MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT.
public enum CheckResult: Sendable {
    case ok, bad, absent

    public var name: StaticString {
        switch self {
        case .ok: return "ok"
        case .bad: return "bad"
        case .absent: return "absent"
        }
    }
}

/// RFC 8489 §14.7: CRC-32 of the message up to FINGERPRINT, XOR-ed with this.
public let fingerprintXOR: UInt32 = 0x5354_554E

extension Message {
    /// The header with its length field rewritten to end at `end` (RFC 8489 §14.5: the
    /// length covers the integrity attribute itself, not what follows it).
    @inline(__always)
    private func headerPrefix(lengthUpTo end: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var header = (UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &header) { h in
            h.storeBytes(of: bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self), toByteOffset: 0, as: UInt16.self)
            h.storeBigEndian(UInt16(end - Message.headerSize), at: 2)
        }
        withUnsafeBytes(of: &header) { body(UnsafeRawBufferPointer(rebasing: $0[0..<4])) }
    }

    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1) with `key`, in constant time.
    public func checkIntegrity(_ key: IntegrityKey) -> CheckResult {
        guard let at = integrityOffset, !isClassic else { return .absent }
        var mac = key.sha1.start()
        headerPrefix(lengthUpTo: at + 24) { mac.update($0) }
        mac.update(UnsafeRawBufferPointer(rebasing: bytes[4..<at]))
        var out = InlineArray<20, UInt8>(repeating: 0)
        var span = out.mutableSpan
        span.withUnsafeMutableBytes { mac.finish(into: $0) }
        let expected = UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 24)])
        return out.span.withUnsafeBytes { constantTimeEqual($0, expected) } ? .ok : .bad
    }

    /// Checks MESSAGE-INTEGRITY-SHA256, possibly truncated to 16..32 bytes (RFC 8489 §14.6).
    public func checkIntegritySHA256(_ key: IntegrityKey) -> CheckResult {
        guard let at = integritySHA256Offset, !isClassic else { return .absent }
        let length = Int(bytes.loadBigEndianUInt16(at: at + 2))
        var mac = key.sha256.start()
        headerPrefix(lengthUpTo: at + 4 + length) { mac.update($0) }
        mac.update(UnsafeRawBufferPointer(rebasing: bytes[4..<at]))
        var out = InlineArray<32, UInt8>(repeating: 0)
        var span = out.mutableSpan
        span.withUnsafeMutableBytes { mac.finish(into: $0) }
        let expected = UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 4 + length)])
        return out.span.withUnsafeBytes {
            constantTimeEqual(UnsafeRawBufferPointer(rebasing: $0[0..<length]), expected)
        } ? .ok : .bad
    }

    /// Checks FINGERPRINT. It is always last, so the header length needs no rewriting.
    public func checkFingerprint() -> CheckResult {
        guard let at = fingerprintOffset else { return .absent }
        let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<at])) ^ fingerprintXOR
        return crc == bytes.loadBigEndianUInt32(at: at + 4) ? .ok : .bad
    }
}
