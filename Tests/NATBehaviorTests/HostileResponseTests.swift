import Common
import NATBehavior
import NetworkSimulator
import STUN
import Testing

/// Every datagram is hostile (RFC 8489 §6.3.4 / RFC 5780 §4): only the awaited response from
/// the awaited address on the awaited socket may move a test on.
@Suite struct HostileResponseTests {
    static let server = addr("198.51.100.10:3478")
    static let other = addr("198.51.100.11:3479")
    static let mapped = addr("203.0.113.1:50000")

    func makeDiscovery(limit: Interval = .seconds(20)) -> NATBehaviorDiscovery<SeededRandom> {
        var c = DiscoveryConfiguration(server: Self.server, localAddresses: [addr("192.168.1.20:40000")])
        c.timeLimit = limit
        return NATBehaviorDiscovery(configuration: c, random: SeededRandom(seed: 11), now: .zero)
    }

    /// The next request sent: socket, destination, transaction id.
    func nextRequest(_ d: inout NATBehaviorDiscovery<SeededRandom>) -> (DiscoveryTransmit, TransactionID)? {
        var buffer = [UInt8](repeating: 0, count: 1500)
        return buffer.withUnsafeMutableBytes { buf -> (DiscoveryTransmit, TransactionID)? in
            guard let t = d.pollTransmit(into: buf) else { return nil }
            let m = try! Message(parsing: UnsafeRawBufferPointer(rebasing: buf[0..<t.count]))
            return (t, m.transactionID)
        }
    }

    /// A Binding success response, optionally spoiled by `tweak`.
    func response(_ id: TransactionID, mapped: TransportAddress = HostileResponseTests.mapped,
                  other: TransportAddress? = HostileResponseTests.other, fingerprint: Bool = true,
                  build: (inout MessageBuilder) throws(BuildError) -> Void = { _ throws(BuildError) in }) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 512)
        let n = out.withUnsafeMutableBytes { buf -> Int in
            var b = try! MessageBuilder(into: buf, type: .bindingSuccess, transactionID: id)
            try! b.append(.xorMappedAddress, xorAddress: mapped)
            if let other { try! b.append(.otherAddress, address: other) }
            try! build(&b)
            if fingerprint { try! b.appendFingerprint() }
            return b.count
        }
        return Array(out[0..<n])
    }

    func deliver(_ bytes: [UInt8], from: TransportAddress, on socket: LocalSocket = .socket0, at ms: Int64,
                 to d: inout NATBehaviorDiscovery<SeededRandom>) {
        bytes.withUnsafeBytes { d.handle(datagram: $0, from: from, on: socket, now: .zero + .milliseconds(ms)) }
    }

    @Test func onlyTheAwaitedResponseMovesTestIOn() throws {
        var d = makeDiscovery()
        let (t, id) = try #require(nextRequest(&d))
        #expect(t.socket == .socket0 && t.destination == Self.server)
        var wrongID = id
        wrongID.low ^= 1
        var dropped = 0
        func expectStillInTestI(_ d: NATBehaviorDiscovery<SeededRandom>) {
            dropped += 1
            #expect(d.droppedDatagrams == dropped)
            #expect(d.outcome == .running)
        }
        // Not STUN, truncated, an RTP-looking packet.
        deliver([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], from: Self.server, at: 1, to: &d)
        expectStillInTestI(d)
        deliver(Array(response(id).prefix(30)), from: Self.server, at: 1, to: &d)
        expectStillInTestI(d)
        // Right shape, wrong transaction, wrong source, wrong socket.
        deliver(response(wrongID), from: Self.server, at: 2, to: &d)
        expectStillInTestI(d)
        deliver(response(id), from: Self.other, at: 3, to: &d)
        expectStillInTestI(d)
        deliver(response(id), from: Self.server, on: .socket1, at: 4, to: &d)
        expectStillInTestI(d)
        // A corrupted FINGERPRINT: the last byte flipped.
        var bad = response(id)
        bad[bad.count - 1] ^= 0xFF
        deliver(bad, from: Self.server, at: 5, to: &d)
        expectStillInTestI(d)
        // An XOR-MAPPED-ADDRESS of an unknown family, and an OTHER-ADDRESS too short.
        var family = response(id)
        family[20 + 4 + 1] = 0x07
        deliver(family, from: Self.server, at: 6, to: &d)
        expectStillInTestI(d)
        var short = [UInt8](repeating: 0, count: 64)
        let n = short.withUnsafeMutableBytes { buf -> Int in
            var b = try! MessageBuilder(into: buf, type: .bindingSuccess, transactionID: id)
            try! b.append(.xorMappedAddress, xorAddress: Self.mapped)
            let junk: [UInt8] = [1, 1, 1]
            junk.withUnsafeBytes { try! b.append(.otherAddress, bytes: $0) }
            return b.count
        }
        deliver(Array(short[0..<n]), from: Self.server, at: 7, to: &d)
        expectStillInTestI(d)
        // A request carrying our id (a reflector) is not an answer either.
        var reflected = response(id)
        reflected[0] = 0x00
        reflected[1] = 0x01
        deliver(reflected, from: Self.server, at: 8, to: &d)
        expectStillInTestI(d)

        // The real answer: test I done, filtering test II (CHANGE-REQUEST IP+port) sent.
        deliver(response(id), from: Self.server, at: 9, to: &d)
        #expect(d.droppedDatagrams == dropped)
        let (t2, id2) = try #require(nextRequest(&d))
        #expect(id2 != id)
        #expect(t2.destination == Self.server)
        // A late duplicate of test I's answer is now just noise.
        deliver(response(id), from: Self.server, at: 10, to: &d)
        #expect(d.droppedDatagrams == dropped + 1)
    }

    @Test func changedSourceMustBeTheOneAskedFor() throws {
        var d = makeDiscovery()
        let (_, id) = try #require(nextRequest(&d))
        deliver(response(id), from: Self.server, at: 1, to: &d)
        let (_, id2) = try #require(nextRequest(&d))
        // Test II asked for "change IP and port": an answer from the primary is a server or
        // middlebox ignoring CHANGE-REQUEST and must not read as endpoint-independent filtering.
        deliver(response(id2), from: Self.server, at: 2, to: &d)
        deliver(response(id2), from: TransportAddress(Self.server.ip, Self.other.port), at: 3, to: &d)
        #expect(d.droppedDatagrams == 2)
        deliver(response(id2), from: Self.other, at: 4, to: &d)
        // EIF known; mapping test II goes to the alternate IP, primary port.
        let (t3, _) = try #require(nextRequest(&d))
        #expect(t3.destination == TransportAddress(Self.other.ip, Self.server.port))
    }

    @Test func otherAddressEqualToThePrimaryIsRejected() throws {
        var d = makeDiscovery()
        let (_, id) = try #require(nextRequest(&d))
        deliver(response(id, other: TransportAddress(Self.server.ip, 9999)), from: Self.server, at: 1, to: &d)
        #expect(d.outcome == .failed(.alternateUnreachable))
        #expect(d.nextDeadline == nil)
        #expect(nextRequest(&d) == nil)
    }

    @Test func errorResponsesAreTyped() throws {
        var d = makeDiscovery()
        let (_, id) = try #require(nextRequest(&d))
        deliver(response(id), from: Self.server, at: 1, to: &d)
        let (_, id2) = try #require(nextRequest(&d))
        var out = [UInt8](repeating: 0, count: 128)
        let n = out.withUnsafeMutableBytes { buf -> Int in
            var b = try! MessageBuilder(into: buf, type: .bindingError, transactionID: id2)
            try! b.appendErrorCode(420)
            return b.count
        }
        // Errors come from where the request went (the server did not change its source).
        deliver(Array(out[0..<n]), from: Self.server, at: 2, to: &d)
        #expect(d.outcome == .running)
        #expect(d.droppedDatagrams == 1)
        // An error from the changed address: the server refused CHANGE-REQUEST.
        deliver(Array(out[0..<n]), from: Self.other, at: 3, to: &d)
        #expect(d.outcome == .failed(.serverLacksRFC5780))
    }

    @Test func randomDatagramsNeverCrashNorOutliveTheTimeLimit() throws {
        var random = SeededRandom(seed: 99)
        for round in 0..<40 {
            var d = makeDiscovery(limit: .seconds(5))
            var ids: [TransactionID] = []
            var ms: Int64 = 0
            while d.outcome == .running {
                ms += 1 + Int64(random.next() % 50)
                let now = Instant.zero + .milliseconds(ms)
                if let deadline = d.nextDeadline, deadline <= now { d.handleTimeout(now: now) }
                while let (_, id) = nextRequest(&d) { ids.append(id) }
                // Garbage, or a response with a real id and random bytes after its header.
                let length = Int(random.next() % 200)
                var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if let id = ids.last, round % 2 == 0 {
                    bytes = response(id, mapped: addr("203.0.113.1:\(1000 + random.next() % 60000)"))
                    let flips = Int(random.next() % 4)
                    for _ in 0..<flips {
                        let i = Int(random.next() % UInt64(bytes.count))
                        bytes[i] = UInt8(truncatingIfNeeded: random.next())
                    }
                }
                let from = random.next() % 2 == 0 ? Self.server : Self.other
                deliver(bytes, from: from, on: random.next() % 2 == 0 ? .socket0 : .socket1, at: ms, to: &d)
                #expect(d.outcome != .running || ms < 5000, "round \(round): still running at \(ms) ms")
                if ms > 6000 { break }
            }
            #expect(d.outcome != .running)
            #expect(d.nextDeadline == nil)
        }
    }
}
