import CLinux
import Common
import DTLS

/// Microseconds on CLOCK_MONOTONIC (the self-test reports how long the device takes).
private func microsecondsNow() -> Int64 {
    var ts = timespec()
    clock_gettime(clockid_t(ice_CLOCK_MONOTONIC), &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// DTLS-SRTP on the device: two identities generated (ECDSA P-256, self-signed), then a
/// handshake between two endpoints in memory, each fingerprint checked, the exporter's
/// keying material compared (RFC 5764 §4.2). Prints the time each step took.
func dtlsSelfTest() {
    var random = SeededRandom(seed: 31)
    let start = microsecondsNow()
    let clientIdentity: DTLSIdentity
    let serverIdentity: DTLSIdentity
    do throws(DTLSError) {
        clientIdentity = try DTLSIdentity.generate(random: &random)
        serverIdentity = try DTLSIdentity.generate(random: &random)
    } catch {
        check(false, "DTLS identity generation")
        return
    }
    let generated = microsecondsNow()
    check(clientIdentity.fingerprint != serverIdentity.fingerprint, "DTLS identities differ")
    let pem = clientIdentity.pem()
    let reloaded = pem.withUnsafeBytes { raw -> DTLSIdentity? in
        do throws(DTLSError) { return try DTLSIdentity(pem: raw) } catch { return nil }
    }
    check(reloaded?.fingerprint == clientIdentity.fingerprint, "DTLS identity PEM round trip")

    let handshakeStart = microsecondsNow()
    let client: DTLSEndpoint
    let server: DTLSEndpoint
    do throws(DTLSError) {
        client = try DTLSEndpoint(role: .client, identity: clientIdentity, remoteFingerprint: serverIdentity.fingerprint,
                                  random: &random)
        server = try DTLSEndpoint(role: .server, identity: serverIdentity, remoteFingerprint: clientIdentity.fingerprint,
                                  random: &random)
    } catch {
        check(false, "DTLS endpoint setup")
        return
    }
    let (clientKeys, serverKeys) = handshake(client, server)
    let handshakeEnd = microsecondsNow()
    check(client.state == .connected && server.state == .connected, "DTLS handshake in memory")
    check(clientKeys != nil && clientKeys?.bytes == serverKeys?.bytes, "DTLS-SRTP keying material matches")
    check(clientKeys?.profile == .aes128CmHmacSha1_80, "DTLS-SRTP profile negotiated")
    print("device-selftest: DTLS key generation \((generated - start) / 2000) ms per identity, handshake "
        + "\((handshakeEnd - handshakeStart) / 1000) ms")

    // RFC 7714 §14.2 (toolchain/mbedtls-srtp-gcm.patch): a client offering only
    // AEAD_AES_128_GCM gets it, with 2 * (16 + 12) bytes of keying material.
    check(DTLSEndpoint.negotiable(.aeadAes128Gcm), "mbedTLS negotiates SRTP_AEAD_AES_128_GCM")
    do throws(DTLSError) {
        let gcmClient = try DTLSEndpoint(role: .client, identity: clientIdentity, remoteFingerprint: serverIdentity.fingerprint,
                                         profiles: [.aeadAes128Gcm], random: &random)
        let gcmServer = try DTLSEndpoint(role: .server, identity: serverIdentity, remoteFingerprint: clientIdentity.fingerprint,
                                         random: &random)
        let (c, s) = handshake(gcmClient, gcmServer)
        check(c?.profile == .aeadAes128Gcm && s?.profile == .aeadAes128Gcm && c?.bytes.count == 56
              && c?.bytes == s?.bytes, "DTLS-SRTP AEAD_AES_128_GCM negotiated")
    } catch {
        check(false, "DTLS endpoint setup (AEAD_AES_128_GCM)")
    }
}

/// Runs a handshake in memory; the keying material each side reported, if it connected.
private func handshake(_ client: DTLSEndpoint, _ server: DTLSEndpoint) -> (DTLSKeyingMaterial?, DTLSKeyingMaterial?) {
    let now = Instant.zero
    server.start(now: now)
    client.start(now: now)
    var rounds = 0
    while rounds < 20 && (client.state == .handshaking || server.state == .handshaking) {
        rounds += 1
        while let d = client.pollTransmit() { d.withUnsafeBytes { server.handle(datagram: $0, now: now) } }
        while let d = server.pollTransmit() { d.withUnsafeBytes { client.handle(datagram: $0, now: now) } }
    }
    var clientKeys: DTLSKeyingMaterial? = nil
    var serverKeys: DTLSKeyingMaterial? = nil
    if case .connected(let k) = client.pollEvent() { clientKeys = k }
    if case .connected(let k) = server.pollEvent() { serverKeys = k }
    return (clientKeys, serverKeys)
}
