import Foundation
import TestSupport
import Testing

/// Our TURN client (`ice-agent turn allocate`, RFC 8656 over UDP) against a real coturn
/// (Debian `coturn`) on loopback, with a UDP echo peer behind the relay.
@Suite(.serialized) struct TURNCoturnTests {
    let install = "apt-get install -y coturn"

    @Test func allocateSucceedsAndDeallocatesOnExit() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), ["turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret"])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        // The relayed address is in coturn's relay range on the relay IP.
        let relayed = try #require(line("relayed: ", in: r.stdout), "\(r.stdout)")
        #expect(relayed.hasPrefix("127.0.0.1:"))
        let port = try #require(UInt16(relayed.dropFirst("127.0.0.1:".count)))
        #expect(port >= coturn.minPort && port <= coturn.maxPort, "relayed \(relayed) outside \(coturn.minPort)-\(coturn.maxPort)")
        let mapped = try #require(line("mapped: ", in: r.stdout), "\(r.stdout)")
        #expect(mapped.hasPrefix("127.0.0.1:"))
        #expect(r.stderr.contains("deallocated"))
        // coturn saw the Refresh with LIFETIME 0 and accepted it.
        #expect(waitUntil { coturn.log.contains("lifetime=0") }, "no deallocation in coturn's log:\n\(coturn.log)")
        #expect(coturn.log.contains("incoming packet REFRESH processed, success"))
    }

    @Test func wrongPasswordFailsWithWrongCredentials() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), ["turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:not-the-secret"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("wrong credentials"), "\(r.stderr)")
        #expect(r.stderr.contains("401"), "\(r.stderr)")
        #expect(!r.stdout.contains("relayed:"))
    }

    @Test func unexpectedRealmFails() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret", "--realm", "other.example",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unexpected realm"), "\(r.stderr)")
    }

    @Test func dataBothWaysThroughTheRelay() throws {
        let coturn = try startCoturn()
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret",
            "--peer", "127.0.0.1:\(peerPort)", "--realm", "example.org",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        #expect(r.stdout.contains("echo: ok"), "\(r.stdout)\n\(r.stderr)")
        // First through Send/Data indications, then through the channel (ChannelData both ways).
        #expect(r.stderr.contains("echo via send/data indication: ok"), "\(r.stderr)")
        #expect(r.stderr.contains("channel: 0x4000 -> 127.0.0.1:\(peerPort)"), "\(r.stderr)")
        #expect(r.stderr.contains("echo via channel: ok"), "\(r.stderr)")
        #expect(waitUntil { coturn.log.contains("lifetime=0") })
        #expect(coturn.log.contains("CREATE_PERMISSION processed, success"), "\(coturn.log)")
        #expect(coturn.log.contains("CHANNEL_BIND processed, success"), "\(coturn.log)")
    }

    @Test func staleNonceIsRetried() throws {
        // Nonces live 1 s; holding the allocation 2 s makes the next request's nonce stale.
        let coturn = try startCoturn(["--stale-nonce=1"])
        defer { coturn.stop() }
        let (peer, peerPort) = try startEchoPeer()
        defer { peer.stop() }
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(coturn.port)", "--user", "test:secret",
            "--peer", "127.0.0.1:\(peerPort)", "--hold", "2",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(coturn.log)")
        #expect(r.stdout.contains("echo: ok"))
        let retries = try #require(line("stale-nonce-retries: ", in: r.stderr)?.split(separator: " ").first.flatMap { Int($0) },
                                   "\(r.stderr)")
        #expect(retries >= 1, "\(r.stderr)")
        #expect(coturn.log.contains("438"), "\(coturn.log)")
    }

    @Test func unreachableServerTimesOut() throws {
        let silent = freeUDPPort()
        let start = Date()
        let r = try run(try iceAgentPath(), [
            "turn", "allocate", "--server", "127.0.0.1:\(silent)", "--user", "test:secret", "--rto", "20", "--timeout", "2",
        ])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(Date().timeIntervalSince(start) < 10)
    }
}
