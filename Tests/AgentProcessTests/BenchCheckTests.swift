import Foundation
import TestSupport
import Testing

/// The allocation checks `scripts/test` relies on: they must report totals, and fail when
/// what they measure is not the steady state they claim to measure.
@Suite struct BenchCheckTests {
    /// Totals, not per-op averages rounded to tenths (which hid up to 0.05 x ops allocations);
    /// ", 0 allocs/op" ends a line only when its total is 0.
    @Test func stunReportsTotalAllocationCounts() throws {
        let r = try run(try iceBenchPath(), ["stun", "--iterations", "1000"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init).filter { $0.contains("allocs/op") }
        #expect(lines.count == 6, "\(r.stdout)")
        let pattern = try Regex(#", ([0-9]+) allocations in 3000 ops, "#, as: (Substring, Substring).self)
        for line in lines {
            let total = try #require(line.firstMatch(of: pattern).flatMap { Int($0.1) }, "\(line)")
            #expect(line.hasSuffix(", 0 allocs/op") == (total == 0), "\(line)")
        }
        // mbedTLS's fresh-key HMAC allocates its context twice per call: the total says so exactly.
        #expect(lines.contains { $0.hasPrefix("mbedtls-hmac-sha1-fresh-key:") && $0.contains(", 6000 allocations in 3000 ops, 2 allocs/op") },
                "\(r.stdout)")
    }

    /// `ice-bench srtp`: both profiles, RTP and RTCP, protect alone and with unprotect, as
    /// totals like every other figure.
    @Test func srtpReportsBothProfilesWithTotals() throws {
        let r = try run(try iceBenchPath(), ["srtp", "--iterations", "1000"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init).filter { $0.contains("allocs/op") }
        #expect(lines.count == 8, "\(r.stdout)")
        for name in ["srtp-aes-cm-hmac-sha1-80", "srtcp-aes-cm-hmac-sha1-80", "srtp-aead-aes-128-gcm", "srtcp-aead-aes-128-gcm"] {
            #expect(lines.contains { $0.hasPrefix(name + "-protect: ") }, "\(r.stdout)")
            #expect(lines.contains { $0.hasPrefix(name + "-protect+unprotect: ") }, "\(r.stdout)")
            #expect(r.stdout.contains("\n" + name + "-unprotect: "), "\(r.stdout)")
        }
        let pattern = try Regex(#", ([0-9]+) allocations in 3000 ops, "#, as: (Substring, Substring).self)
        for line in lines {
            let total = try #require(line.firstMatch(of: pattern).flatMap { Int($0.1) }, "\(line)")
            #expect(line.hasSuffix(", 0 allocs/op") == (total == 0), "\(line)")
        }
    }

    /// A session that drops during the consent cycles fails the check, allocations or not.
    @Test func allocCheckFailsWhenTheSessionDrops() throws {
        let r = try run(try iceBenchPath(), ["alloc-check", "--fault-close-peer", "10"], timeout: 120)
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stdout.contains("FAIL: the session dropped during the consent cycles"), "\(r.stdout)")
        // The SRTP packet path is checked in the same run, for both profiles.
        #expect(r.stdout.contains("srtp allocations (aes-cm-hmac-sha1-80): "), "\(r.stdout)")
        #expect(r.stdout.contains("srtp allocations (aead-aes-128-gcm): "), "\(r.stdout)")
        // And the whole encrypted relay of a demo call, libsrtp's share apart.
        #expect(r.stdout.contains("srtp-path allocations ("), "\(r.stdout)")
        #expect(r.stdout.contains(" of 10000 RTP packets relayed through the encrypted demo call "), "\(r.stdout)")
    }

    /// `ice-bench dtls`: identity generation, the in-memory handshake and the handshake on
    /// loopback, with the RTT split the goal is read from.
    @Test func dtlsReportsHandshakeOnLoopbackInRTTs() throws {
        let r = try run(try iceBenchPath(), ["dtls", "--iterations", "3", "--runs", "2"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        for prefix in ["dtls-identity-generate: median ", "dtls-handshake-memory: median ", "dtls-handshake-loopback: median ",
                       "dtls-loopback-rtt: median "] {
            #expect(r.stdout.contains("\n" + prefix) || r.stdout.hasPrefix(prefix), "\(prefix): \(r.stdout)")
        }
        #expect(r.stdout.contains(" over 2 (both sessions' selected pair to both keyed)"), "\(r.stdout)")
        let pattern = try Regex(#"dtls-handshake-adds: ([0-9.]+) ms = ([0-9.]+) RTTs \+ crypto ([0-9.]+) ms"#)
        #expect(r.stdout.contains(pattern), "\(r.stdout)")
    }

    /// `ice-bench rtp`: clear and encrypted relays, each against the plain forwarder of the
    /// same run, every packet through.
    @Test func rtpMeasuresClearAndEncryptedRelays() throws {
        let r = try run(try iceBenchPath(), ["rtp", "--packets", "2000", "--runs", "1"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["rtp-ice-agent", "rtp-plain-udp-forwarder", "rtp-ice-agent-srtp"] {
            let line = try Regex("\n?" + name + #": [0-9]+ packets/s, [0-9.]+ ns CPU/packet, ([0-9]+) dropped"#, as: (Substring, Substring).self)
            let dropped = r.stdout.firstMatch(of: line).flatMap { Int($0.1) }
            #expect(dropped != nil, "\(name): \(r.stdout)")
        }
        #expect(r.stdout.contains("rtp-ratio: "), "\(r.stdout)")
        #expect(r.stdout.contains("rtp-srtp-ratio: "), "\(r.stdout)")
        #expect(r.stdout.contains("rtp-throughput: clear "), "\(r.stdout)")
        #expect(!r.stderr.contains("the daemon dropped packets"), "\(r.stderr)")
    }
}
