import Common
import DTLS
import ICE
import SRTP

/// DTLS-SRTP for one connection (RFC 5764): the DTLS association that runs over the selected
/// pair, and the SRTP session it keys. Media is clear only when the owner asked for none of
/// this; with it, nothing is protected or accepted before the handshake completed.
final class MediaSecurity {
    let endpoint: DTLSEndpoint
    var srtp: SRTPSession? = nil
    /// The client's handshake starts once ICE has nominated a pair (RFC 8445 §12: data goes
    /// on the selected pair), or `Connection.handshakeWait` after a pair was first selected.
    var started = false
    /// When a pair was first selected while the handshake waited for a nomination.
    var selectedAt: Instant? = nil
    /// Where the last DTLS datagram came from (its local base and the peer's address): a
    /// server answers there while its side of ICE has not selected a pair yet.
    var lastSource: (local: TransportAddress, remote: TransportAddress)? = nil
    /// The DTLS datagram `pollTransmit` handed out last, kept until the next call.
    let transmit = UnsafeMutableRawBufferPointer.allocate(byteCount: MediaSecurity.maxDatagram, alignment: 8)
    /// RTP or RTCP that arrived or was to be sent before the keys existed, dropped.
    var heldBeforeKeys = 0
    /// Received media that failed SRTP or SRTCP (authentication, replay, malformed), dropped.
    var rejected = 0

    /// Above the handshake MTU (`DTLSEndpoint`'s 1200 bytes) with room to spare.
    static let maxDatagram = 2048

    init(endpoint: DTLSEndpoint) { self.endpoint = endpoint }
    deinit { transmit.deallocate() }
}

/// What the DTLS association has for the wire.
enum SecurityTransmit {
    case none
    /// One was wrapped for a relay or dropped: poll again.
    case again
    case send(ConnectionTransmit)
}

/// What a `Connection`'s media security reports: the counters and the state of its
/// handshake, for the status report and the logs.
public struct MediaSecurityStatus: Sendable {
    public var dtls: DTLSState
    /// The negotiated profile, once keyed.
    public var profile: SRTPProfile?
    public var srtp: SRTPCounters
    public var heldBeforeKeys: Int
    public var rejected: Int
    public var droppedDTLS: Int
}

extension Connection {
    /// Protects this connection's media with DTLS-SRTP (RFC 5764): the DTLS handshake runs over
    /// the selected pair as `role` (RFC 5763 §5: from the descriptions' a=setup) and is
    /// accepted only when the peer's certificate hashes to `remoteFingerprint`, the value its
    /// description carried. Until it completes no media goes out or comes in.
    public func secureMedia(identity: DTLSIdentity, role: DTLSRole, remoteFingerprint: Fingerprint,
                            now: Instant) throws(DTLSError) {
        clock = now
        let endpoint = try DTLSEndpoint(role: role, identity: identity, remoteFingerprint: remoteFingerprint,
                                        random: &random)
        security = MediaSecurity(endpoint: endpoint)
        // A pair may already be selected (the peer's description came late).
        startHandshakeIfReady(now: now)
        settle(now: now)
    }

    /// Whether media is protected: nil with no DTLS-SRTP, false until its keys exist.
    public var mediaKeyed: Bool? { security.map { $0.srtp != nil } }

    public var mediaSecurity: MediaSecurityStatus? {
        guard let s = security else { return nil }
        return MediaSecurityStatus(dtls: s.endpoint.state, profile: s.srtp?.profile, srtp: s.srtp?.counters ?? SRTPCounters(),
                                   heldBeforeKeys: s.heldBeforeKeys, rejected: s.rejected,
                                   droppedDTLS: s.endpoint.droppedDatagrams)
    }

    /// Protects RTP or RTCP from the local pipeline in place for the peer (RFC 3711 §3.3,
    /// §3.4): `packet` holds `length` bytes and room after them for the tag. Returns the
    /// length to send, or nil when it must be dropped (no keys yet, or SRTP refused it).
    /// Without DTLS-SRTP the packet goes as it is.
    public func protectMedia(_ packet: UnsafeMutableRawBufferPointer, length: Int) -> Int? {
        guard let s = security else { return length }
        guard let srtp = s.srtp else {
            s.heldBeforeKeys += 1
            return nil
        }
        do throws(SRTPError) {
            return isRTCP(packet, length) ? try srtp.protectRTCP(packet, length: length) : try srtp.protectRTP(packet, length: length)
        } catch {
            return nil
        }
    }

    /// Unprotects SRTP or SRTCP from the peer in place (RFC 3711 §3.3, §3.4). Returns the
    /// clear length, or nil when it must be dropped: no keys yet, or it failed
    /// authentication or the replay check (counted). Without DTLS-SRTP it is taken as it is.
    public func unprotectMedia(_ packet: UnsafeMutableRawBufferPointer) -> Int? {
        guard let s = security else { return packet.count }
        guard let srtp = s.srtp else {
            s.heldBeforeKeys += 1
            return nil
        }
        do throws(SRTPError) {
            return isRTCP(packet, packet.count)
                ? try srtp.unprotectRTCP(packet, length: packet.count) : try srtp.unprotectRTP(packet, length: packet.count)
        } catch {
            s.rejected += 1
            return nil
        }
    }

    func isRTCP(_ packet: UnsafeMutableRawBufferPointer, _ length: Int) -> Bool {
        length >= 2 && FirstByteClass.isRTCP(secondByte: packet[1])
    }

    /// A DTLS record from a proven source (RFC 7983 §7: first byte 20-63) goes to the
    /// association; without DTLS-SRTP it is not this call's.
    func deliverDTLS(_ bytes: UnsafeRawBufferPointer, from: TransportAddress, to local: TransportAddress,
                     now: Instant) -> Bool {
        guard let s = security, let first = bytes.first, FirstByteClass(first) == .dtls else { return false }
        s.lastSource = (local, from)
        s.endpoint.handle(datagram: bytes, now: now)
        return true
    }

    /// The client starts on the nominated pair: the peer's nomination reaches it about when
    /// its own check succeeds (RFC 8445 §8.1.1), and its handshake's public-key work then does
    /// not stand between the peer's checks and their answers on either side. A controlling
    /// peer slow to nominate costs at most `handshakeWait`.
    func startHandshakeIfReady(now: Instant) {
        guard let s = security, !s.started, s.endpoint.role == .client, let pair = agent.selectedPair() else { return }
        if s.selectedAt == nil { s.selectedAt = now }
        guard pair.nominated || now >= s.selectedAt! + Connection.handshakeWait else { return }
        s.started = true
        s.selectedAt = nil
        s.endpoint.start(now: now)
    }

    /// The longest the DTLS client waits for a nomination once a pair is selected: a few of
    /// the peer's pacing intervals (RFC 8445 §14.2), far below DTLS's first retransmission.
    public static var handshakeWait: Interval { .milliseconds(200) }

    /// When the waiting client starts without a nomination.
    var handshakeDeadline: Instant? {
        guard let s = security, !s.started, let at = s.selectedAt else { return nil }
        return at + Connection.handshakeWait
    }

    /// The association's events: keys become an SRTP session; a failure (a certificate that
    /// does not match the signaled fingerprint, RFC 5763 §5) ends the call's media.
    func drainSecurityEvents() -> Bool {
        guard let s = security else { return false }
        var any = false
        while let e = s.endpoint.pollEvent() {
            any = true
            switch e {
            case .connected(let keys):
                let made = keys.bytes.withUnsafeBytes { b -> Result<SRTPSession, SRTPError> in
                    do throws(SRTPError) {
                        return .success(try SRTPSession(profile: keys.profile, keyingMaterial: b, localIsClient: keys.localIsClient))
                    } catch {
                        return .failure(error)
                    }
                }
                switch made {
                case .success(let session):
                    s.srtp = session
                    emit(.mediaSecured(keys.profile))
                case .failure(let error):
                    emit(.mediaSecurityFailed(.srtp(error)))
                }
            case .failed(let error):
                emit(.mediaSecurityFailed(.dtls(error)))
            case .closed:
                s.srtp = nil
                emit(.mediaSecurityClosed)
            }
        }
        return any
    }

    /// The next DTLS datagram, on the selected pair (or back where the last one came from,
    /// before this side selected one), wrapped by a relay when the pair's base is relayed.
    func pollSecurityTransmit() -> SecurityTransmit {
        guard let s = security, let bytes = s.endpoint.pollTransmit() else { return .none }
        guard bytes.count <= MediaSecurity.maxDatagram else { return .again }
        let local: TransportAddress, remote: TransportAddress
        if let pair = agent.selectedPair() {
            (local, remote) = (pair.local.base, pair.remote.address)
        } else if let last = s.lastSource {
            (local, remote) = last
        } else {
            return .again  // nowhere to send it yet: the handshake's timer sends it again
        }
        bytes.withUnsafeBytes { s.transmit.copyMemory(from: $0) }
        let datagram = UnsafeRawBufferPointer(rebasing: s.transmit[0..<bytes.count])
        if let relay = relayOwning(local) {
            _ = wrap(datagram, through: relay, to: remote, now: clock)
            return .again
        }
        if isRelayedAddress(local) { return .again }
        return .send(ConnectionTransmit(route: .socket(local), destination: remote, bytes: datagram))
    }
}

/// Why a connection's media cannot be protected.
public enum MediaSecurityFailure: Error, Equatable, Sendable {
    case dtls(DTLSError)
    case srtp(SRTPError)

    public var description: String {
        switch self {
        case .dtls(let e): return "DTLS: " + e.description
        case .srtp(let e): return "SRTP keys refused: \(e)"
        }
    }
}
