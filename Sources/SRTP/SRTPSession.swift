import CSRTP
import Common

/// SRTP and SRTCP for one call (RFC 3711; RFC 7714 for AES-GCM), keyed by the DTLS-SRTP
/// exporter (RFC 5764 §4.2), over libsrtp. Packets are protected and unprotected in place in
/// the caller's buffer. After the first packet of each SSRC (which creates libsrtp's stream)
/// neither this type nor libsrtp allocates, provided libsrtp's crypto backend does not: the
/// device's mbedTLS build does not; Debian's host build on NSS creates a context per packet
/// (`ice-bench alloc-check` prints both).
///
/// Two libsrtp sessions, because libsrtp keeps one template stream per session: outbound with
/// our write key for every SSRC we send, inbound with the peer's for every SSRC it sends.
public final class SRTPSession {
    /// Streams (SSRCs) libsrtp may create per direction; each holds keys and a replay list
    /// for the life of the session.
    public static let maxStreamsPerDirection = 32

    public let profile: SRTPProfile
    public private(set) var counters = SRTPCounters()

    private let outbound: OpaquePointer
    private let inbound: OpaquePointer
    private var outboundStreams = StreamTable(capacity: SRTPSession.maxStreamsPerDirection)
    private var inboundStreams = StreamTable(capacity: SRTPSession.maxStreamsPerDirection)

    /// `keyingMaterial` is the DTLS exporter output, `profile.keyingMaterialLength` bytes:
    /// client_write_key | server_write_key | client_write_salt | server_write_salt (RFC 5764
    /// §4.2). The side that was the DTLS client writes with the client key and salt.
    /// `replayWindow` is in packets (RFC 3711 §3.3.2), 64 to 32767.
    public init(profile: SRTPProfile, keyingMaterial: UnsafeRawBufferPointer, localIsClient: Bool,
                replayWindow: Int = 1024) throws(SRTPError) {
        guard keyingMaterial.count == profile.keyingMaterialLength else { throw .badKeyingMaterial }
        guard replayWindow >= 64 && replayWindow < 0x8000 else { throw .badReplayWindow }
        try SRTPLibrary.initialize()
        let k = profile.keyLength, s = profile.saltLength
        let client = (key: 0, salt: 2 * k), server = (key: k, salt: 2 * k + s)
        let local = localIsClient ? client : server, remote = localIsClient ? server : client
        self.profile = profile
        outbound = try Self.makeSession(profile, keyingMaterial, key: local.key, salt: local.salt,
                                        ssrc: ssrc_any_outbound, window: replayWindow)
        do {
            inbound = try Self.makeSession(profile, keyingMaterial, key: remote.key, salt: remote.salt,
                                           ssrc: ssrc_any_inbound, window: replayWindow)
        } catch {
            srtp_dealloc(outbound)
            throw error
        }
    }

    deinit {
        srtp_dealloc(outbound)
        srtp_dealloc(inbound)
    }

    /// SSRCs libsrtp has a stream for, sent and received.
    public var outboundStreamCount: Int { outboundStreams.count }
    public var inboundStreamCount: Int { inboundStreams.count }

    /// Protects the RTP packet in the first `length` bytes of `packet` (RFC 3711 §3.3; RFC
    /// 7714 §9.1) and returns its new length, `profile.rtpOverhead` more; `packet` must have
    /// that room after it and start 4-byte aligned. Protecting a sequence number again is
    /// allowed, for retransmissions.
    public func protectRTP(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        do throws(SRTPError) {
            let base = try checkBuffer(packet, length: length, room: profile.rtpOverhead)
            guard PacketHeader.rtpHeaderLength(UnsafeRawBufferPointer(packet), length: length) != nil else {
                throw .malformed
            }
            let ssrc = PacketHeader.ssrc(UnsafeRawBufferPointer(packet), at: 8)
            guard outboundStreams.admits(ssrc) else { throw .tooManyStreams }
            // libsrtp creates the stream before anything else can fail.
            outboundStreams.insert(ssrc)
            var n = Int32(length)
            try SRTPLibrary.check(srtp_protect(outbound, base, &n))
            counters.protected += 1
            return Int(n)
        } catch {
            count(error)
            throw error
        }
    }

    /// Authenticates and decrypts the SRTP packet in the first `length` bytes of `packet` in
    /// place (RFC 3711 §3.3; RFC 7714 §9.3) and returns the RTP packet's length. A packet that
    /// fails is dropped, counted and changes nothing for the packets after it.
    public func unprotectRTP(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        do throws(SRTPError) {
            let base = try checkBuffer(packet, length: length, room: 0)
            let tag = profile.rtpOverhead
            guard length >= PacketHeader.rtpFixedLength + tag,
                  PacketHeader.rtpHeaderLength(UnsafeRawBufferPointer(packet), length: length - tag) != nil
            else { throw .malformed }
            let ssrc = PacketHeader.ssrc(UnsafeRawBufferPointer(packet), at: 8)
            guard inboundStreams.admits(ssrc) else { throw .tooManyStreams }
            var n = Int32(length)
            try SRTPLibrary.check(srtp_unprotect(inbound, base, &n))
            // libsrtp created the stream once the packet authenticated.
            inboundStreams.insert(ssrc)
            counters.unprotected += 1
            return Int(n)
        } catch {
            count(error)
            throw error
        }
    }

    /// Protects the RTCP compound packet in the first `length` bytes of `packet` (RFC 3711
    /// §3.4; RFC 7714 §9.2) and returns its new length, `profile.rtcpOverhead` more.
    public func protectRTCP(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        do throws(SRTPError) {
            let base = try checkBuffer(packet, length: length, room: profile.rtcpOverhead)
            guard PacketHeader.isRTCP(UnsafeRawBufferPointer(packet), length: length) else { throw .malformed }
            let ssrc = PacketHeader.ssrc(UnsafeRawBufferPointer(packet), at: 4)
            guard outboundStreams.admits(ssrc) else { throw .tooManyStreams }
            outboundStreams.insert(ssrc)
            var n = Int32(length)
            try SRTPLibrary.check(srtp_protect_rtcp(outbound, base, &n))
            counters.protected += 1
            return Int(n)
        } catch {
            count(error)
            throw error
        }
    }

    /// Authenticates and decrypts the SRTCP packet in the first `length` bytes of `packet` in
    /// place (RFC 3711 §3.4; RFC 7714 §9.3) and returns the RTCP packet's length.
    public func unprotectRTCP(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        do throws(SRTPError) {
            let base = try checkBuffer(packet, length: length, room: 0)
            guard length >= PacketHeader.rtcpFixedLength + profile.rtcpOverhead,
                  PacketHeader.isRTCP(UnsafeRawBufferPointer(packet), length: length)
            else { throw .malformed }
            let ssrc = PacketHeader.ssrc(UnsafeRawBufferPointer(packet), at: 4)
            guard inboundStreams.admits(ssrc) else { throw .tooManyStreams }
            var n = Int32(length)
            try SRTPLibrary.check(srtp_unprotect_rtcp(inbound, base, &n))
            inboundStreams.insert(ssrc)
            counters.unprotected += 1
            return Int(n)
        } catch {
            count(error)
            throw error
        }
    }

    /// The packet's start, once `length` bytes are in `packet` with `room` free after them.
    private func checkBuffer(_ packet: UnsafeMutableRawBufferPointer, length: Int, room: Int) throws(SRTPError)
        -> UnsafeMutableRawPointer {
        // libsrtp counts in Int32; no datagram comes near this.
        guard let base = packet.baseAddress, length >= 0, length <= packet.count, length <= 0x10_0000 else {
            throw .malformed
        }
        guard UInt(bitPattern: base) & 3 == 0 else { throw .unalignedBuffer }
        guard packet.count - length >= room else { throw .noRoom }
        return base
    }

    private func count(_ error: SRTPError) {
        switch error {
        case .authenticationFailed: counters.authenticationFailures += 1
        case .replayed: counters.replays += 1
        default: counters.otherDrops += 1
        }
    }

    private static func makeSession(_ profile: SRTPProfile, _ material: UnsafeRawBufferPointer, key: Int, salt: Int,
                                    ssrc: srtp_ssrc_type_t, window: Int) throws(SRTPError) -> OpaquePointer {
        var policy = srtp_policy_t()
        switch profile {
        case .aes128CmHmacSha1_80:
            // RFC 3711 §5: AES-CM, HMAC-SHA1 with an 80-bit tag, for SRTP and SRTCP alike.
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aeadAes128Gcm:
            // RFC 7714 §14.2: AEAD_AES_128_GCM, 16-byte tag.
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        }
        policy.ssrc.type = ssrc
        policy.window_size = UInt(window)
        // RTP retransmissions (RFC 4588 aside, a resent packet keeps its sequence number).
        policy.allow_repeat_tx = ssrc == ssrc_any_outbound ? 1 : 0
        let k = profile.keyLength, s = profile.saltLength
        var session: OpaquePointer? = nil
        // libsrtp takes the master key and master salt as one buffer and derives the session
        // keys from it in srtp_create (RFC 3711 §4.3), keeping no pointer to it.
        let status = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: k + s) { master -> srtp_err_status_t in
            for i in 0..<k { master[i] = material[key + i] }
            for i in 0..<s { master[k + i] = material[salt + i] }
            policy.key = master.baseAddress
            let status = srtp_create(&session, &policy)
            for i in 0..<(k + s) { master[i] = 0 }
            return status
        }
        try SRTPLibrary.check(status)
        guard let session else { throw .library(Int32(truncatingIfNeeded: srtp_err_status_alloc_fail.rawValue)) }
        return session
    }
}
