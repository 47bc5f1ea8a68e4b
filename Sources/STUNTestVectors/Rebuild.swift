import Common
import STUN

/// The attribute sequences that rebuild the vectors with `MessageBuilder`, shared by the unit
/// tests and the device self-test so both check the builder against the same recipe.
extension Vectors {
    /// RFC 5769 §2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY,
    /// FINGERPRINT (padding bytes 0x20).
    public static func buildSampleRequest(_ b: inout MessageBuilder, key: IntegrityKey) throws(BuildError) {
        try b.append(.software, text: rfc5769RequestSoftware)
        try b.append(.priority, uint32: rfc5769RequestPriority)
        try b.append(.iceControlled, uint64: rfc5769RequestIceControlledTieBreaker)
        try b.append(.username, text: rfc5769RequestUsername)
        try b.appendMessageIntegrity(key)
        try b.appendFingerprint()
    }

    /// RFC 5769 §2.2 / §2.3: SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT.
    public static func buildSampleResponse(_ b: inout MessageBuilder, mapped: TransportAddress, key: IntegrityKey) throws(BuildError) {
        try b.append(.software, text: "test vector")
        try b.append(.xorMappedAddress, xorAddress: mapped)
        try b.appendMessageIntegrity(key)
        try b.appendFingerprint()
    }
}
