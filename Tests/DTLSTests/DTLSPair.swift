import Common
@testable import DTLS

/// Two endpoints wired back to back in memory on a simulated clock, with a hook to drop or
/// inject datagrams.
final class DTLSPair {
    let client: DTLSEndpoint
    let server: DTLSEndpoint
    var now = Instant(nanoseconds: 1_000_000_000)
    /// Datagrams each way, in order, as sent.
    var clientSent: [[UInt8]] = []
    var serverSent: [[UInt8]] = []
    var clientEvents: [DTLSEvent] = []
    var serverEvents: [DTLSEvent] = []
    /// Decides, per datagram, whether it is delivered (index counts from 0 per direction).
    var deliverClientToServer: (Int, [UInt8]) -> Bool = { _, _ in true }
    var deliverServerToClient: (Int, [UInt8]) -> Bool = { _, _ in true }

    // Per pair: an identity is not shared across threads (mbedTLS caches curve tables in
    // the key while signing), and Swift Testing runs tests in parallel.
    let clientIdentity: DTLSIdentity
    let serverIdentity: DTLSIdentity

    init(clientProfiles: [SRTPProfile] = DTLSEndpoint.defaultProfiles,
         serverProfiles: [SRTPProfile] = DTLSEndpoint.defaultProfiles,
         clientExpects: Fingerprint? = nil, serverExpects: Fingerprint? = nil,
         mtu: Int = 1200, seed: UInt64 = 1) throws {
        var random = SeededRandom(seed: seed)
        clientIdentity = try DTLSIdentity.generate(random: &random)
        serverIdentity = try DTLSIdentity.generate(random: &random)
        client = try DTLSEndpoint(role: .client, identity: clientIdentity,
                                  remoteFingerprint: clientExpects ?? serverIdentity.fingerprint,
                                  profiles: clientProfiles, random: &random, mtu: mtu)
        server = try DTLSEndpoint(role: .server, identity: serverIdentity,
                                  remoteFingerprint: serverExpects ?? clientIdentity.fingerprint,
                                  profiles: serverProfiles, random: &random, mtu: mtu)
    }

    /// Moves every pending datagram and event; returns whether anything moved.
    @discardableResult
    func pump() -> Bool {
        var moved = false
        while let d = client.pollTransmit() {
            moved = true
            let i = clientSent.count
            clientSent.append(d)
            if deliverClientToServer(i, d) { d.withUnsafeBytes { server.handle(datagram: $0, now: now) } }
        }
        while let d = server.pollTransmit() {
            moved = true
            let i = serverSent.count
            serverSent.append(d)
            if deliverServerToClient(i, d) { d.withUnsafeBytes { client.handle(datagram: $0, now: now) } }
        }
        while let e = client.pollEvent() { clientEvents.append(e); moved = true }
        while let e = server.pollEvent() { serverEvents.append(e); moved = true }
        return moved
    }

    /// Runs until both are settled or `limit` of simulated time passed, firing timers.
    func run(limit: Interval = .seconds(300)) {
        let end = now + limit
        while now < end {
            while pump() {}
            if settled { return }
            let deadlines = [client.nextDeadline, server.nextDeadline].compactMap { $0 }
            guard let next = deadlines.min() else { return }
            if next > now { now = next }
            client.handleTimeout(now: now)
            server.handleTimeout(now: now)
        }
    }

    var settled: Bool {
        func done(_ s: DTLSState) -> Bool {
            switch s {
            case .connected, .failed, .closed: return true
            default: return false
            }
        }
        return done(client.state) && done(server.state)
    }

    func start() {
        server.start(now: now)
        client.start(now: now)
    }

    var clientKeys: DTLSKeyingMaterial? {
        for case .connected(let k) in clientEvents { return k }
        return nil
    }
    var serverKeys: DTLSKeyingMaterial? {
        for case .connected(let k) in serverEvents { return k }
        return nil
    }
}
