import Common
import Testing
@testable import DTLS

/// Hostile datagrams before, during and after the handshake leave it intact.
@Suite struct DTLSGarbageTests {
    static func garbage(seed: UInt64, foreign: [[UInt8]]) -> [[UInt8]] {
        var r = SeededRandom(seed: seed)
        var out: [[UInt8]] = []
        for n in 0..<40 {
            let length = Int(r.next() % 300) + 1
            var d = (0..<length).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            // Half of them look like DTLS at first glance.
            if n % 2 == 0 { d[0] = UInt8(20 + r.next() % 4) }
            out.append(d)
        }
        // Truncated records and records with a length past the end.
        out.append([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1])
        out.append([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 1, 0, 0])
        out.append(DTLSRecords.record(type: 23, epoch: 1, sequence: 7, body: [UInt8](repeating: 0x55, count: 40)))
        out.append(DTLSRecords.record(type: 21, epoch: 1, sequence: 9, body: [UInt8](repeating: 0x11, count: 26)))
        // Every datagram of another session's handshake.
        for d in foreign {
            out.append(d)
            out.append(Array(d.prefix(d.count / 2)))
        }
        return out
    }

    func foreignHandshake() throws -> [[UInt8]] {
        let other = try DTLSPair(seed: 99)
        other.start()
        other.run()
        return other.clientSent + other.serverSent
    }

    @Test func garbageBeforeDuringAndAfterTheHandshake() throws {
        let foreign = try foreignHandshake()
        let pair = try DTLSPair()
        let junk = Self.garbage(seed: 5, foreign: foreign.filter { $0[3] != 0 || $0[4] != 0 })
        func spray() {
            for d in junk {
                d.withUnsafeBytes {
                    pair.server.handle(datagram: $0, now: pair.now)
                    pair.client.handle(datagram: $0, now: pair.now)
                }
            }
        }
        spray()
        pair.start()
        // During: between each exchange.
        for _ in 0..<6 {
            spray()
            pair.pump()
        }
        pair.run()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.clientKeys != nil && pair.clientKeys?.bytes == pair.serverKeys?.bytes)
        spray()
        pair.pump()
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.client.droppedDatagrams > 0 && pair.server.droppedDatagrams > 0)
        // Still able to close cleanly.
        pair.client.close(now: pair.now)
        pair.pump()
        #expect(pair.server.state == .closed)
    }

    @Test func anotherSessionsClientHelloDuringTheHandshake() throws {
        // A stale ClientHello (message_seq 0) of another session reaching the server
        // mid-handshake is taken for a retransmission; the handshake goes on.
        let foreign = try foreignHandshake()
        let pair = try DTLSPair()
        pair.start()
        pair.pump()
        foreign[0].withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) }
        pair.run()
        #expect(pair.server.state == .connected)
        #expect(pair.client.state == .connected)
    }

    @Test func anotherSessionsHandshakeAfterConnecting() throws {
        let foreign = try foreignHandshake()
        let pair = try DTLSPair()
        pair.start()
        pair.run()
        for d in foreign {
            d.withUnsafeBytes {
                pair.server.handle(datagram: $0, now: pair.now)
                pair.client.handle(datagram: $0, now: pair.now)
            }
        }
        pair.pump()
        #expect(pair.server.state == .connected)
        #expect(pair.client.state == .connected)
        #expect(pair.clientEvents.count == 1 && pair.serverEvents.count == 1)
    }

    @Test func serverWaitingForAClientHelloIgnoresEverythingElse() throws {
        let foreign = try foreignHandshake()
        let pair = try DTLSPair()
        pair.server.start(now: pair.now)
        for d in foreign.dropFirst() { d.withUnsafeBytes { pair.server.handle(datagram: $0, now: pair.now) } }
        #expect(pair.server.state == .handshaking)
        #expect(pair.server.pollTransmit() == nil)
        #expect(pair.server.droppedDatagrams == foreign.count - 1)
        pair.client.start(now: pair.now)
        pair.run()
        #expect(pair.server.state == .connected && pair.client.state == .connected)
    }

    @Test func everyTransmitIsADTLSRecord() throws {
        let pair = try DTLSPair()
        pair.start()
        pair.run()
        for d in pair.clientSent + pair.serverSent {
            #expect(d.withUnsafeBytes { RecordFilter.isWellFormed($0) })
        }
    }
}
