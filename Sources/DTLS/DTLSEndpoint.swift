import CMbedTLS
import Common

/// One DTLS-SRTP association (RFC 5764) over DTLS 1.2 (RFC 6347), sans-IO: the owner feeds
/// datagrams and timeouts in and sends what `pollTransmit` gives out. Both roles require the
/// peer's certificate and accept it only if it hashes to the signaled fingerprint (RFC 5763
/// §5). After the handshake nothing but alerts is carried: the keys go to SRTP.
public final class DTLSEndpoint {
    public let role: DTLSRole
    public private(set) var state: DTLSState = .new
    /// Datagrams dropped: not DTLS records, arriving before a client started or after the
    /// end, or carrying application data (this endpoint carries none).
    public private(set) var droppedDatagrams = 0

    let identity: DTLSIdentity
    let profiles: [SRTPProfile]
    let generator: RandomGenerator
    let io: DTLSIO
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    let suites: UnsafeMutablePointer<Int32>
    let curves: UnsafeMutablePointer<mbedtls_ecp_group_id>
    let srtpProfiles: UnsafeMutablePointer<UInt16>
    var events: [DTLSEvent] = []
    /// Server only, while handshaking: joins ClientHello fragments, the first and any
    /// retransmission (answered once, not once per fragment).
    var helloAssembler: ClientHelloAssembler? = nil
    /// Server only, until a whole ClientHello has gone to mbedTLS.
    var awaitingClientHello = false

    /// RFC 8827 §6.5: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is what WebRTC requires; the
    /// AES-256 and ChaCha20 variants cost nothing more with the same key.
    static let cipherSuites: [Int32] = [
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
    /// x25519 first, P-256 (the curve of browsers' certificates, which must be listed for the
    /// peer's certificate to be accepted), P-384.
    static let groups: [mbedtls_ecp_group_id] = [MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1]
    /// RFC 6347 §4.2.4.1: 1 s initial retransmission timeout, doubled up to 60 s; the
    /// handshake fails when the doubled value passes it (about two minutes of silence).
    static let initialTimeoutMilliseconds: UInt32 = 1000
    static let maximumTimeoutMilliseconds: UInt32 = 60000
    /// Application data read in one go (it is dropped; the size only bounds a copy).
    static let scratchLength = 1500

    /// The SRTP profiles offered (client) and accepted (server), cheaper per packet first: the
    /// server's order decides among those the client offers (toolchain/mbedtls-srtp-gcm.patch;
    /// RFC 5764 §4.1.1 leaves the choice to the server). `ice-bench srtp` on the host (x86-64
    /// with AES-NI and PCLMULQDQ, both used by mbedTLS 2.28), a 1200-byte RTP packet protected
    /// and unprotected: AES_CM_128_HMAC_SHA1_80 12.4 us, AEAD_AES_128_GCM 15.3 us with the
    /// patched static build (Debian's own shared build: 12.2 and 20.2 us); 2.28's GCM calls the
    /// cipher and GHASH once per 16-byte block. GCM is cheaper only for a 32-byte SRTCP report
    /// (0.9 against 1.7 us), and RTCP is a small share of the packets.
    public static let defaultProfiles: [SRTPProfile] = [.aes128CmHmacSha1_80, .aeadAes128Gcm]

    /// `profiles`: the SRTP profiles to offer (client) or accept (server), in preference
    /// order; those the linked mbedTLS cannot negotiate are left out (see `negotiable`).
    /// `mtu`: the largest datagram the handshake sends (RFC 6347 §4.1.1.1: the handshake
    /// fragments to fit). (Embedded Swift allows a generic initializer on a class only as a
    /// convenience one.)
    public convenience init<R: RandomSource>(role: DTLSRole, identity: DTLSIdentity, remoteFingerprint: Fingerprint,
                                             profiles: [SRTPProfile] = DTLSEndpoint.defaultProfiles,
                                             random: inout R, mtu: Int = 1200) throws(DTLSError) {
        let generator = try RandomGenerator(random: &random)
        try self.init(role: role, identity: identity, remoteFingerprint: remoteFingerprint, profiles: profiles,
                      generator: generator, mtu: mtu)
    }

    init(role: DTLSRole, identity: DTLSIdentity, remoteFingerprint: Fingerprint, profiles: [SRTPProfile],
         generator: RandomGenerator, mtu: Int) throws(DTLSError) {
        self.role = role
        if role == .server {
            helloAssembler = ClientHelloAssembler()
            awaitingClientHello = true
        }
        self.identity = identity
        var usable: [SRTPProfile] = []
        for p in profiles where Self.negotiable(p) && !usable.contains(p) { usable.append(p) }
        self.profiles = usable
        self.generator = generator
        io = DTLSIO(expected: remoteFingerprint)
        config = .allocate(capacity: 1)
        mbedtls_ssl_config_init(config)
        ssl = .allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        suites = .allocate(capacity: Self.cipherSuites.count + 1)
        for (i, s) in Self.cipherSuites.enumerated() { suites[i] = s }
        suites[Self.cipherSuites.count] = 0
        curves = .allocate(capacity: Self.groups.count + 1)
        for (i, g) in Self.groups.enumerated() { curves[i] = g }
        curves[Self.groups.count] = MBEDTLS_ECP_DP_NONE
        srtpProfiles = .allocate(capacity: usable.count + 1)
        for (i, p) in usable.enumerated() { srtpProfiles[i] = p.rawValue }
        srtpProfiles[usable.count] = UInt16(MBEDTLS_TLS_SRTP_UNSET)
        // Every stored property is set: a throw from here on runs deinit, which frees.
        guard !usable.isEmpty else { throw .unsupportedProfiles }
        try configure(mtu: mtu)
    }

    deinit {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
        mbedtls_ssl_config_free(config)
        config.deallocate()
        suites.deallocate()
        curves.deallocate()
        srtpProfiles.deallocate()
        io.wipeSecrets()
    }

    private func configure(mtu: Int) throws(DTLSError) {
        var rc = mbedtls_ssl_config_defaults(config, role == .client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
                                             MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard rc == 0 else { throw .setup(rc) }
        // DTLS 1.2 only (RFC 8827 §6.5); a browser offering 1.3 and 1.2 gets 1.2.
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_rng(config, mbedtls_ctr_drbg_random, UnsafeMutableRawPointer(generator.context))
        // RFC 5763 §5: both sides present a certificate, checked against the fingerprint. The
        // CA chain is our own certificate only because mbedTLS refuses REQUIRED without one;
        // the verify callback alone decides.
        mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
        mbedtls_ssl_conf_ca_chain(config, identity.certificate, nil)
        mbedtls_ssl_conf_cert_req_ca_list(config, Int8(MBEDTLS_SSL_CERT_REQ_CA_LIST_DISABLED))
        mbedtls_ssl_conf_verify(config, dtlsVerifyFingerprint, io.opaque)
        rc = mbedtls_ssl_conf_own_cert(config, identity.certificate, identity.key)
        guard rc == 0 else { throw .setup(rc) }
        mbedtls_ssl_conf_ciphersuites(config, suites)
        mbedtls_ssl_conf_curves(config, curves)
        rc = mbedtls_ssl_conf_dtls_srtp_protection_profiles(config, srtpProfiles)
        guard rc == 0 else { throw .setup(rc) }
        mbedtls_ssl_conf_export_keys_ext_cb(config, dtlsExportKeys, io.opaque)
        mbedtls_ssl_conf_handshake_timeout(config, Self.initialTimeoutMilliseconds, Self.maximumTimeoutMilliseconds)
        if role == .server {
            // No HelloVerifyRequest (RFC 6347 §4.2.1 makes it optional): ICE connectivity
            // checks already proved the peer answers on this path.
            mbedtls_ssl_conf_dtls_cookies(config, nil, nil, nil)
        }
        rc = mbedtls_ssl_setup(ssl, config)
        guard rc == 0 else { throw .setup(rc) }
        mbedtls_ssl_set_bio(ssl, io.opaque, dtlsSend, dtlsReceive, nil)
        mbedtls_ssl_set_timer_cb(ssl, io.opaque, dtlsSetTimer, dtlsGetTimer)
        mbedtls_ssl_set_mtu(ssl, UInt16(clamping: max(mtu, 256)))
    }

    /// Whether the linked mbedTLS can negotiate the profile in use_srtp. RFC 5764's
    /// AES_CM_128_HMAC_SHA1_80 always; RFC 7714 §14.2's AEAD_AES_128_GCM (0x0007) only with
    /// toolchain/mbedtls-srtp-gcm.patch, since 2.28 as released refuses the id wherever it
    /// checks one. Asked of the library itself, once, because the headers Swift was compiled
    /// against need not be those of the library linked.
    public static func negotiable(_ profile: SRTPProfile) -> Bool {
        switch profile {
        case .aes128CmHmacSha1_80: return true
        case .aeadAes128Gcm: return linkedMbedTLSHasGCM
        }
    }

    static let linkedMbedTLSHasGCM = mbedTLSAccepts(.aeadAes128Gcm)

    /// Whether mbedtls_ssl_conf_dtls_srtp_protection_profiles takes the profile: it refuses
    /// the whole list when one id fails mbedtls_ssl_check_srtp_profile_value, the check that
    /// also decides what the ClientHello and ServerHello carry and accept.
    static func mbedTLSAccepts(_ profile: SRTPProfile) -> Bool {
        var config = mbedtls_ssl_config()
        mbedtls_ssl_config_init(&config)
        defer { mbedtls_ssl_config_free(&config) }
        let list: [UInt16] = [profile.rawValue, UInt16(MBEDTLS_TLS_SRTP_UNSET)]
        return list.withUnsafeBufferPointer { mbedtls_ssl_conf_dtls_srtp_protection_profiles(&config, $0.baseAddress) } == 0
    }

    // MARK: - Driving

    /// Starts the handshake: a client sends its ClientHello; a server waits for one.
    public func start(now: Instant) {
        guard state == .new else { return }
        io.now = now
        state = .handshaking
        driveHandshake()
    }

    /// A datagram from the peer's transport address (already demultiplexed as DTLS, RFC 7983).
    /// Anything that is not well-framed DTLS is dropped and counted; what mbedTLS discards
    /// (bad MAC, replay, stale epoch) leaves the association as it was (RFC 6347 §4.1.2.7).
    public func handle(datagram: UnsafeRawBufferPointer, now: Instant) {
        io.now = now
        switch state {
        case .new:
            guard role == .server else {
                droppedDatagrams += 1
                return
            }
        case .handshaking, .connected:
            break
        case .failed, .closed:
            droppedDatagrams += 1
            return
        }
        guard RecordFilter.isWellFormed(datagram) else {
            droppedDatagrams += 1
            return
        }
        if helloAssembler != nil && state != .connected {
            if let joined = joinClientHello(datagram) {
                if joined.isEmpty { return }
                awaitingClientHello = false
                joined.withUnsafeBytes { feed($0) }
                return
            }
            // Before its first ClientHello, only a whole one may reach mbedTLS.
            if awaitingClientHello {
                guard ClientHelloAssembler.isWholeClientHello(datagram) else {
                    droppedDatagrams += 1
                    return
                }
                awaitingClientHello = false
            }
        }
        feed(datagram)
    }

    private func feed(_ datagram: UnsafeRawBufferPointer) {
        if state == .new { state = .handshaking }
        io.input = datagram
        io.inputConsumed = false
        defer { io.input = nil }
        if state == .handshaking { driveHandshake() }
        if state == .connected { readRecords() }
    }

    /// nil: no ClientHello fragment here, feed the datagram as it is. Empty: fragments taken,
    /// the ClientHello is not complete yet. Else the joined ClientHello record.
    private func joinClientHello(_ datagram: UnsafeRawBufferPointer) -> [UInt8]? {
        var offset = 0
        var taken = false
        var joined: [UInt8]? = nil
        while offset < datagram.count {
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            if ClientHelloAssembler.isFragment(datagram, record: offset) {
                taken = true
                if let whole = helloAssembler?.add(datagram, record: offset) { joined = whole }
            }
            offset += RecordFilter.headerLength + length
        }
        guard taken else { return nil }
        return joined ?? []
    }

    /// When `handleTimeout` is due: the handshake's retransmission timer (RFC 6347 §4.2.4),
    /// nil when nothing waits on time.
    public var nextDeadline: Instant? {
        guard state == .handshaking, io.timerFinal != 0 else { return nil }
        return io.timerStart + .milliseconds(io.timerFinal)
    }

    /// Retransmits the last flight when its timer ran out, or fails the handshake when the
    /// retransmissions are exhausted.
    public func handleTimeout(now: Instant) {
        io.now = now
        guard let deadline = nextDeadline, now >= deadline else { return }
        driveHandshake()
    }

    /// The next datagram to send to the peer.
    public func pollTransmit() -> [UInt8]? {
        if io.outbound.isEmpty { return nil }
        return io.outbound.removeFirst()
    }

    public func pollEvent() -> DTLSEvent? {
        if events.isEmpty { return nil }
        return events.removeFirst()
    }

    /// Ends the association: close_notify once connected (RFC 5246 §7.2.1), else just stops.
    public func close(now: Instant) {
        io.now = now
        switch state {
        case .connected:
            _ = mbedtls_ssl_close_notify(ssl)
            state = .closed
        case .new, .handshaking:
            state = .closed
        case .failed, .closed:
            break
        }
    }

    private func driveHandshake() {
        var rounds = 0
        while true {
            let rc = mbedtls_ssl_handshake(ssl)
            if rc == 0 {
                finishHandshake()
                return
            }
            if rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE {
                // A retransmission due before the datagram was read returns first: go on to
                // read it.
                rounds += 1
                if io.input != nil && !io.inputConsumed && rounds < 4 { continue }
                return
            }
            fail(DTLSError.handshake(code: rc, fingerprintMismatch: io.fingerprintMismatch))
            return
        }
    }

    private func finishHandshake() {
        // The verify callback must have seen the matching certificate (RFC 5763 §5).
        guard io.fingerprintMatched else {
            sendFatalAlert()
            fail(io.fingerprintMismatch ? .fingerprintMismatch : .peerCertificateMissing)
            return
        }
        var info = mbedtls_dtls_srtp_info()
        mbedtls_ssl_get_dtls_srtp_negotiation_result(ssl, &info)
        guard let profile = SRTPProfile(id: info.chosen_dtls_srtp_profile), profiles.contains(profile) else {
            // RFC 5764 §4.1.1: without use_srtp there are no SRTP keys.
            sendFatalAlert()
            fail(.noCommonSRTPProfile)
            return
        }
        guard io.keysExported else {
            sendFatalAlert()
            fail(.exporter(0))
            return
        }
        var bytes = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
        // RFC 5705 §4 without context: PRF(master_secret, label, client_random + server_random).
        let label: StaticString = "EXTRACTOR-dtls_srtp"
        let rc = io.masterSecret.withUnsafeBufferPointer { secret in
            io.randoms.withUnsafeBufferPointer { randoms in
                bytes.withUnsafeMutableBufferPointer { out in
                    label.withUTF8Buffer { l in
                        l.withMemoryRebound(to: CChar.self) { text in
                            mbedtls_ssl_tls_prf(io.prfType, secret.baseAddress, secret.count, text.baseAddress,
                                                randoms.baseAddress, randoms.count, out.baseAddress, out.count)
                        }
                    }
                }
            }
        }
        io.wipeSecrets()
        guard rc == 0 else {
            sendFatalAlert()
            fail(.exporter(rc))
            return
        }
        state = .connected
        events.append(.connected(DTLSKeyingMaterial(profile: profile, bytes: bytes, localIsClient: role == .client)))
    }

    /// Post-handshake records: the peer's close_notify or fatal alert, a retransmitted last
    /// flight (answered by mbedTLS with ours, RFC 6347 §4.2.4), application data (dropped).
    private func readRecords() {
        var scratch = [UInt8](repeating: 0, count: Self.scratchLength)
        var rounds = 0
        while state == .connected && rounds < 64 {
            rounds += 1
            let rc = scratch.withUnsafeMutableBufferPointer { mbedtls_ssl_read(ssl, $0.baseAddress, $0.count) }
            if rc > 0 {
                droppedDatagrams += 1
                continue
            }
            switch rc {
            case MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_SSL_WANT_WRITE:
                if io.input != nil && !io.inputConsumed { continue }
                return
            case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
                // RFC 5246 §7.2.1: answer with our own close_notify.
                _ = mbedtls_ssl_close_notify(ssl)
                state = .closed
                events.append(.closed)
            case MBEDTLS_ERR_SSL_CLIENT_RECONNECT, 0:
                // A new ClientHello on an established association: ignored (no cookies to
                // prove the path, RFC 6347 §4.2.8).
                return
            default:
                fail(DTLSError.handshake(code: rc, fingerprintMismatch: false))
            }
        }
    }

    private func sendFatalAlert() {
        _ = mbedtls_ssl_send_alert_message(ssl, UInt8(MBEDTLS_SSL_ALERT_LEVEL_FATAL), UInt8(MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE))
    }

    private func fail(_ error: DTLSError) {
        state = .failed(error)
        events.append(.failed(error))
        io.wipeSecrets()
    }
}
