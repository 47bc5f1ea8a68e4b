// libFuzzer target over mDNS answers: `MDNSResponse(parsing:)` on raw datagrams, and an
// `MDNSResolution` resolving names fed raw datagrams and real-shaped answers (the right id,
// id 0 or another; the right name in any case, or another; TTL 0 or not), with its calls and
// timeouts. Built and run by `fuzz/run mdns`; see fuzz/README.md.
//
// Input: a mode byte. Even: the rest is one datagram for the parser. Odd: a seed byte, then
// operations (opcode byte, then its fields):
//   0 start(name k)      1 start(name from bytes)   2 cancel(name k)
//   3 handle(raw datagram)   4 handle(answer for name k: id choice, case, TTL, addresses)
//   5 advance the clock (u16 ms) and handleTimeout
// Invariants (a violation traps):
//   - a parsed response has at most `maxAddressRecords` records, each name lowercased wire
//     form of at most 255 bytes ending in a zero label; `addresses(for:)` gives distinct
//     addresses of live records of that name;
//   - the resolution never resolves more than `maxResolutions` names; after handleTimeout its
//     deadline is nil or later than now; every transmit is a one-question query with the QU
//     bit for a name being resolved, to the group; every event is for a name that was being
//     resolved, at most one per start, and a resolved one has 1 to 16 addresses.
// Nothing is printed.

import Common
import MDNS

let names: [MDNSName] = {
    var out: [MDNSName] = []
    for n in ["9b36eaac-bb2e-49bb-bb78-21c41c499900.local", "abcd.local", "a.b.local", "x.local"] {
        if let name = try? MDNSName(n) { out.append(name) }
    }
    return out
}()

func checkResponse(_ r: MDNSResponse) {
    require(r.records.count <= MDNSResponse.maxAddressRecords, "more records than maxAddressRecords")
    for rec in r.records {
        let w = rec.name.wire
        require(!w.isEmpty && w.count <= 255 && w.last == 0, "a record name that is not a wire name")
        for b in w { require(!(b >= 0x41 && b <= 0x5A), "a record name not lowercased") }
        let live = r.addresses(for: rec.name)
        var seen: [IPAddress] = []
        for a in live {
            require(!seen.contains(a), "duplicate addresses")
            seen.append(a)
            require(r.records.contains { $0.name == rec.name && $0.address == a && $0.ttl > 0 }, "an address of no live record")
        }
    }
}

func answer(name: MDNSName, id: UInt16, upper: Bool, ttl: UInt32, addresses: [IPAddress]) -> [UInt8] {
    var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x84, 0, 0, 0, 0, UInt8(addresses.count), 0, 0, 0, 0]
    let start = m.count
    for (k, a) in addresses.enumerated() {
        if k == 0 {
            m += name.wire.map { upper && $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        } else {
            m += [0xC0, UInt8(start)]
        }
        m += [0, a.isIPv4 ? 1 : 28, 0x80, 1, UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF), 0, UInt8(a.byteCount)]
        var bytes = [UInt8](repeating: 0, count: a.byteCount)
        bytes.withUnsafeMutableBytes { a.write(to: $0) }
        m += bytes
    }
    return m
}

func fuzzResolution(_ input: inout FuzzReader) {
    var r = MDNSResolution(random: SeededRandom(seed: UInt64(input.u8())))
    var now = Instant(nanoseconds: 1_000_000_000)
    var ids: [MDNSName: UInt16] = [:]
    var active: [MDNSName] = []
    var operations = 0
    func drain() {
        while let t = r.pollTransmit() {
            require(t.destination == TransportAddress(MDNSWire.groupV4, MDNSWire.port), "a query not to the group")
            let b = t.bytes
            require(b.count > 16 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 1, "a query header that is not one question")
            require(b[b.count - 2] == 0x80 && b[b.count - 1] == 1, "a question without QU and IN")
            let wire = Array(b[12..<(b.count - 4)])
            guard let name = active.first(where: { $0.wire == wire }) else { fail("a query for a name not being resolved") }
            ids[name] = UInt16(b[0]) << 8 | UInt16(b[1])
        }
        while let e = r.pollEvent() {
            switch e {
            case .resolved(let name, let addresses):
                require(!addresses.isEmpty && addresses.count <= 16, "a resolution with no or too many addresses")
                guard let i = active.firstIndex(of: name) else { fail("an event for a name not being resolved") }
                active.remove(at: i)
            case .failed(let name):
                guard let i = active.firstIndex(of: name) else { fail("an event for a name not being resolved") }
                active.remove(at: i)
            }
        }
        require(r.count == active.count && r.count <= r.configuration.maxResolutions, "resolutions out of step")
    }
    while !input.isEmpty && operations < 256 {
        operations += 1
        switch input.u8() % 6 {
        case let op where op <= 1:
            let name: MDNSName
            if op == 0 {
                name = names[Int(input.u8()) % names.count]
            } else {
                let f = input.field()
                guard let n = try? MDNSName(String(decoding: f, as: UTF8.self)) else { continue }
                name = n
            }
            do throws(MDNSError) {
                try r.start(name, now: now)
                if !active.contains(name) { active.append(name) }
            } catch {
                require(error == .tooManyResolutions && r.count == r.configuration.maxResolutions, "start refused below the limit")
            }
        case 2:
            let name = names[Int(input.u8()) % names.count]
            r.cancel(name)
            active.removeAll { $0 == name }
        case 3:
            let d = input.field()
            do throws(MDNSError) { try r.handle(datagram: d, now: now) } catch { sink(error) }
            if let p = try? MDNSResponse(parsing: d) { checkResponse(p) }
        case 4:
            let name = names[Int(input.u8()) % names.count]
            let choice = input.u8()
            let id: UInt16 = choice % 3 == 0 ? (ids[name] ?? 0) : choice % 3 == 1 ? 0 : input.u16()
            let ttl: UInt32 = input.bool() ? 0 : input.u32()
            var addresses: [IPAddress] = []
            for _ in 0..<Int(input.u8() % 20) {
                addresses.append(input.bool() ? .v4(input.u32()) : .v6(input.u64(), input.u64()))
            }
            let m = answer(name: name, id: id, upper: choice & 0x80 != 0, ttl: ttl, addresses: addresses)
            m.withUnsafeBytes { b in
                do throws(MDNSError) { try r.handle(datagram: b, now: now) } catch { fail("a well-formed answer refused") }
            }
        default:
            now = now + .milliseconds(Int64(input.u16()))
            r.handleTimeout(now: now)
            require(r.nextDeadline.map { $0 > now } ?? true, "a deadline at or before now after handleTimeout")
        }
        drain()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzReader(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    if input.u8() & 1 == 0 {
        let d = input.rest()
        do throws(MDNSError) { checkResponse(try MDNSResponse(parsing: d)) } catch { sink(error) }
    } else {
        fuzzResolution(&input)
    }
    return 0
}
