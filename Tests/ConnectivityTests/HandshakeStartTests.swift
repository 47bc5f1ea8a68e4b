import Common
import Connectivity
import DTLS
import ICE
import Testing

/// When the DTLS client (RFC 5764, the side that answered setup:active) starts its handshake:
/// on the pair the controlling peer nominated (RFC 8445 §8.1.1), so that the handshake's
/// public-key work never delays the checks and answers of the nomination; and without a
/// nomination, `Connection.handshakeWait` after a pair was first selected.
@Suite struct HandshakeStartTests {
    static let aBase = TransportAddress("192.0.2.1:5000")!
    static let bBase = TransportAddress("192.0.2.2:6000")!

    /// Two connections on one virtual clock, every datagram delivered at once unless
    /// `dropToB` says otherwise. A is controlling and the DTLS server, B the client.
    final class Wire {
        let a: Connection<SeededRandom>
        let b: Connection<SeededRandom>
        var now = Instant.zero
        var dropToB: ([UInt8]) -> Bool = { _ in false }
        /// B's DTLS datagrams: when, and whether B's selected pair was nominated then.
        var dtlsFromB: [(at: Instant, nominated: Bool)] = []
        /// When B first selected a pair.
        var bSelectedAt: Instant? = nil
        var secured: [String] = []

        init() throws {
            var random = SeededRandom(seed: 7)
            let aIdentity = try DTLSIdentity.generate(random: &random)
            let bIdentity = try DTLSIdentity.generate(random: &random)
            func connection(_ role: Role, _ base: TransportAddress, seed: UInt64) throws -> Connection<SeededRandom> {
                var config = AgentConfiguration()
                config.role = role
                let agent = Agent(configuration: config, random: SeededRandom(seed: seed))
                _ = try agent.addHostCandidate(base: base)
                return Connection(agent: agent, random: SeededRandom(seed: seed + 1))
            }
            a = try connection(.controlling, Self.aBase, seed: 1)
            b = try connection(.controlled, Self.bBase, seed: 3)
            try a.secureMedia(identity: aIdentity, role: .server, remoteFingerprint: bIdentity.fingerprint, now: now)
            try b.secureMedia(identity: bIdentity, role: .client, remoteFingerprint: aIdentity.fingerprint, now: now)
            a.start(now: now)
            b.start(now: now)
            for (c, peer, base) in [(a, b, Self.bBase), (b, a, Self.aBase)] {
                c.agent.setRemoteCredentials(ufrag: peer.agent.localCredentials.ufragText, password: peer.agent.localCredentials.passwordText)
                try c.addRemoteCandidate(Candidate(type: .host, component: 1, priority: 2_130_706_431, foundation: Foundation("1"),
                                                   address: base), now: now)
            }
        }

        static var aBase: TransportAddress { HandshakeStartTests.aBase }
        static var bBase: TransportAddress { HandshakeStartTests.bBase }

        /// Delivers everything pending until both are quiet.
        func settle() {
            var moved = true
            while moved {
                moved = false
                while let t = a.pollTransmit() {
                    moved = true
                    let bytes = Array(t.bytes)
                    if dropToB(bytes) { continue }
                    bytes.withUnsafeBytes { _ = b.handle(datagram: $0, from: Self.aBase, to: Self.bBase, now: now) }
                }
                while let t = b.pollTransmit() {
                    moved = true
                    let bytes = Array(t.bytes)
                    if let first = bytes.first, (20...63).contains(first) {
                        dtlsFromB.append((now, b.agent.selectedPair()?.nominated == true))
                    }
                    bytes.withUnsafeBytes { _ = a.handle(datagram: $0, from: Self.bBase, to: Self.aBase, now: now) }
                }
                for (name, c) in [("a", a), ("b", b)] {
                    while let e = c.pollEvent() {
                        moved = true
                        switch e {
                        case .selectedPair where name == "b": if bSelectedAt == nil { bSelectedAt = now }
                        case .mediaSecured: secured.append(name)
                        default: break
                        }
                    }
                }
            }
        }

        /// Runs timers and deliveries until `end`.
        func run(until end: Instant) {
            settle()
            while let d = [a.nextDeadline, b.nextDeadline].compactMap({ $0 }).min(), d <= end {
                now = max(now, d)
                a.handleTimeout(now: now)
                b.handleTimeout(now: now)
                settle()
            }
        }
    }

    /// A STUN Binding request carrying USE-CANDIDATE (RFC 8445 §7.1.2, attribute 0x0025).
    static func nominates(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 20, bytes[0] == 0x00, bytes[1] == 0x01 else { return false }
        var i = 20
        while i + 4 <= bytes.count {
            let type = Int(bytes[i]) << 8 | Int(bytes[i + 1]), length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if type == 0x0025 { return true }
            i += 4 + (length + 3) & ~3
        }
        return false
    }

    @Test func theClientStartsOnTheNominatedPairAndTheHandshakeCompletes() throws {
        let w = try Wire()
        w.run(until: .zero + .seconds(2))
        let first = try #require(w.dtlsFromB.first, "the client never sent")
        #expect(first.nominated, "the ClientHello left before the nomination")
        #expect(w.b.agent.state == .completed && w.a.agent.state == .completed)
        #expect(Set(w.secured) == ["a", "b"], "\(w.secured)")
        #expect(w.a.mediaKeyed == true && w.b.mediaKeyed == true)
    }

    @Test func withoutANominationTheClientStartsAfterTheWait() throws {
        let w = try Wire()
        w.dropToB = { Self.nominates($0) }
        w.run(until: .zero + .seconds(2))
        let selected = try #require(w.bSelectedAt)
        let first = try #require(w.dtlsFromB.first, "the client never sent")
        #expect(!first.nominated)
        #expect(first.at == selected + Connection<SeededRandom>.handshakeWait, "\(first.at) vs selected at \(selected)")
        #expect(w.b.mediaKeyed == true, "the handshake completes on the selected pair all the same")
    }
}
