import Common
import Testing

@testable import MDNS

struct MDNSResolutionTests {
    typealias Resolution = MDNSResolution<SeededRandom>
    let t0 = Instant(nanoseconds: 1_000_000_000)

    func drain(_ r: inout Resolution) -> [Resolution.Transmit] {
        var out: [Resolution.Transmit] = []
        while let t = r.pollTransmit() { out.append(t) }
        return out
    }

    /// A legacy unicast answer for `name` with `id` carrying `addresses` (TTL 120).
    func answer(_ name: MDNSName, id: UInt16, _ addresses: [IPAddress], ttl: UInt32 = 120) -> [UInt8] {
        var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x84, 0, 0, 0, 0, UInt8(addresses.count), 0, 0, 0, 0]
        for a in addresses {
            m += name.wire
            m += [0, a.isIPv4 ? 1 : 28, 0x80, 1, UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF), 0, UInt8(a.byteCount)]
            var bytes = [UInt8](repeating: 0, count: a.byteCount)
            bytes.withUnsafeMutableBytes { a.write(to: $0) }
            m += bytes
        }
        return m
    }

    func handle(_ r: inout Resolution, _ m: [UInt8], now: Instant) throws(MDNSError) {
        let result: Result<Void, MDNSError> = m.withUnsafeBytes { b in
            do throws(MDNSError) { return .success(try r.handle(datagram: b, now: now)) } catch { return .failure(error) }
        }
        try result.get()
    }

    @Test func queriesAtTheScheduleThenFails() throws {
        var r = Resolution(random: SeededRandom(seed: 1))
        let name = try MDNSName("9b36eaac-bb2e-49bb-bb78-21c41c499900.local")
        try r.start(name, now: t0)
        let first = drain(&r)
        // One A and one AAAA query, each one question, to the IPv4 group.
        #expect(first.count == 2)
        #expect(first.allSatisfy { $0.destination == TransportAddress("224.0.0.251:5353")! })
        #expect(first.map { $0.bytes[5] } == [1, 1])
        #expect(first.map { Array($0.bytes[($0.bytes.count - 4)...]) } == [[0, 1, 0x80, 1], [0, 28, 0x80, 1]])
        let id = UInt16(first[0].bytes[0]) << 8 | UInt16(first[0].bytes[1])
        #expect(first[1].bytes[0...1] == first[0].bytes[0...1])
        #expect(Array(first[0].bytes[12..<(12 + name.wire.count)]) == name.wire)
        _ = id

        #expect(r.nextDeadline == t0 + .milliseconds(250))
        r.handleTimeout(now: t0 + .milliseconds(249))  // early: nothing
        #expect(drain(&r).isEmpty)
        r.handleTimeout(now: t0 + .milliseconds(250))
        #expect(drain(&r).count == 2)
        #expect(r.nextDeadline == t0 + .seconds(1))
        r.handleTimeout(now: t0 + .seconds(1))
        #expect(drain(&r).count == 2)
        #expect(r.nextDeadline == t0 + .seconds(3))
        r.handleTimeout(now: t0 + .milliseconds(2999))
        #expect(r.pollEvent() == nil && drain(&r).isEmpty)
        r.handleTimeout(now: t0 + .seconds(3))
        #expect(r.pollEvent() == .failed(name))
        #expect(r.pollEvent() == nil && r.nextDeadline == nil && r.count == 0)
    }

    @Test func aLateTimeoutSendsOnceNotOncePerMissedSlot() throws {
        var r = Resolution(random: SeededRandom(seed: 1))
        try r.start(try MDNSName("a.local"), now: t0)
        _ = drain(&r)
        r.handleTimeout(now: t0 + .milliseconds(1500))
        #expect(drain(&r).count == 2)
        #expect(r.nextDeadline == t0 + .seconds(3))
    }

    @Test func anAnswerResolvesCaseInsensitivelyAndIgnoresOthers() throws {
        var r = Resolution(random: SeededRandom(seed: 2))
        let name = try MDNSName("abcd.local")
        let other = try MDNSName("other.local")
        try r.start(name, now: t0)
        try r.start(other, now: t0)
        let sent = drain(&r)
        let id = UInt16(sent[0].bytes[0]) << 8 | UInt16(sent[0].bytes[1])
        // Wrong name, wrong id, a goodbye (TTL 0): nothing resolves.
        try handle(&r, answer(try MDNSName("abce.local"), id: id, [IPAddress("10.0.0.9")!]), now: t0)
        try handle(&r, answer(name, id: id &+ 1 == 0 ? 2 : id &+ 1, [IPAddress("10.0.0.9")!]), now: t0)
        try handle(&r, answer(name, id: id, [IPAddress("10.0.0.9")!], ttl: 0), now: t0)
        #expect(r.pollEvent() == nil && r.count == 2)
        // The answer's name in capitals, the id repeated (RFC 6762 §6.7), two addresses.
        var upper = answer(name, id: id, [IPAddress("192.168.1.23")!, IPAddress("192.168.1.24")!])
        for i in 13..<17 { upper[i] -= 0x20 }  // "abcd" after its length byte
        try handle(&r, upper, now: t0 + .milliseconds(5))
        #expect(r.pollEvent() == .resolved(name, [IPAddress("192.168.1.23")!, IPAddress("192.168.1.24")!]))
        #expect(r.count == 1 && !r.isResolving(name) && r.isResolving(other))
        // A multicast-style answer carries id 0 (RFC 6762 §18.1).
        try handle(&r, answer(other, id: 0, [IPAddress("fe80::2")!]), now: t0 + .milliseconds(6))
        #expect(r.pollEvent() == .resolved(other, [IPAddress("fe80::2")!]))
        #expect(r.nextDeadline == nil)
        // A late duplicate answer changes nothing.
        try handle(&r, upper, now: t0 + .milliseconds(7))
        #expect(r.pollEvent() == nil)
    }

    @Test func malformedDatagramsThrowAndChangeNothing() throws {
        var r = Resolution(random: SeededRandom(seed: 3))
        let name = try MDNSName("abcd.local")
        try r.start(name, now: t0)
        _ = drain(&r)
        #expect(throws: MDNSError.truncated) { try handle(&r, [1, 2, 3], now: t0) }
        #expect(throws: MDNSError.notAResponse) { try handle(&r, MDNSQuery.build(name: name, types: [.a], id: 0), now: t0) }
        #expect(r.count == 1 && r.pollEvent() == nil && r.nextDeadline == t0 + .milliseconds(250))
    }

    @Test func resolutionsAreBounded() throws {
        var r = Resolution(random: SeededRandom(seed: 4))
        for i in 0..<16 { try r.start(try MDNSName("n\(i).local"), now: t0) }
        try r.start(try MDNSName("n3.local"), now: t0)  // already resolving: no-op
        #expect(r.count == 16)
        #expect(throws: MDNSError.tooManyResolutions) { try r.start(try MDNSName("n16.local"), now: t0) }
        #expect(drain(&r).count == 32)
        r.cancel(try MDNSName("n0.local"))
        try r.start(try MDNSName("n16.local"), now: t0)
        #expect(r.count == 16)
    }

    @Test func queryIdsComeFromTheRandomSource() throws {
        var a = Resolution(random: SeededRandom(seed: 5))
        var b = Resolution(random: SeededRandom(seed: 6))
        try a.start(try MDNSName("x.local"), now: t0)
        try b.start(try MDNSName("x.local"), now: t0)
        let ida = drain(&a)[0].bytes.prefix(2), idb = drain(&b)[0].bytes.prefix(2)
        #expect(ida != idb)
        #expect(UInt16(ida.first!) << 8 | UInt16(ida.last!) == UInt16(truncatingIfNeeded: SeededRandom(seed: 5).nextValue()))
    }
}

extension SeededRandom {
    func nextValue() -> UInt64 {
        var copy = self
        return copy.next()
    }
}
