// The device self-test: known-answer checks of the protocol modules, run as Embedded Swift
// on the target (under qemu-user in CI). Swift Testing does not exist in Embedded mode, so
// this is a plain executable whose exit status is the verdict.
import CLinux
import Common
import ICE
import ICEHarness
import STUN
import STUNTestVectors

nonisolated(unsafe) var failures = 0
nonisolated(unsafe) var checks = 0

func check(_ ok: Bool, _ what: StaticString) {
    checks += 1
    if !ok {
        failures += 1
        print("FAIL: " + what.description)
    }
}

func parsed(_ bytes: [UInt8], _ body: (Message) -> Void) {
    bytes.withUnsafeBytes { raw in
        do throws(ParseError) {
            body(try Message(parsing: raw))
        } catch {
            check(false, "vector parses")
        }
    }
}

func built(_ type: MessageType, _ id: [UInt8], padding: UInt8, _ body: (inout MessageBuilder) throws(BuildError) -> Void) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = buffer.withUnsafeMutableBytes { raw -> Int in
        do throws(BuildError) {
            let tid = id.withUnsafeBytes { TransactionID(bytes: $0) }
            var b = try MessageBuilder(into: raw, type: type, transactionID: tid)
            b.paddingByte = padding
            try body(&b)
            return b.count
        } catch {
            return 0
        }
    }
    return Array(buffer[0..<count])
}

// RFC 5769 §2.1: parse, verify, rebuild bit-exact.
let shortTerm = IntegrityKey.shortTerm(password: Vectors.rfc5769ShortTermPassword)
parsed(Vectors.rfc5769Request) { m in
    check(m.type == .bindingRequest, "2.1 type")
    check(m.checkIntegrity(shortTerm) == .ok, "2.1 MESSAGE-INTEGRITY")
    check(m.checkFingerprint() == .ok, "2.1 FINGERPRINT")
    check((try? m.priority()) == Vectors.rfc5769RequestPriority, "2.1 PRIORITY")
    check((try? m.uint64(.iceControlled)) == Vectors.rfc5769RequestIceControlledTieBreaker, "2.1 ICE-CONTROLLED")
}
let request = built(.bindingRequest, Vectors.rfc5769TransactionID, padding: 0x20) { b throws(BuildError) in
    try Vectors.buildSampleRequest(&b, key: shortTerm)
}
check(request == Vectors.rfc5769Request, "2.1 built bit-exact")

// RFC 5769 §2.2 and §2.3: XOR-MAPPED-ADDRESS both families (64-bit loads on 32-bit ARM).
for (vector, text) in [(Vectors.rfc5769IPv4Response, Vectors.rfc5769IPv4ResponseMappedAddress),
                       (Vectors.rfc5769IPv6Response, Vectors.rfc5769IPv6ResponseMappedAddress)] {
    parsed(vector) { m in
        let mapped = try? m.mappedAddress()
        check(mapped != nil && mapped! == TransportAddress(text)!, "2.2/2.3 XOR-MAPPED-ADDRESS")
        check(m.checkIntegrity(shortTerm) == .ok, "2.2/2.3 MESSAGE-INTEGRITY")
        check(m.checkFingerprint() == .ok, "2.2/2.3 FINGERPRINT")
        let rebuilt = built(.bindingSuccess, Vectors.rfc5769TransactionID, padding: 0x20) { b throws(BuildError) in
            try Vectors.buildSampleResponse(&b, mapped: mapped!, key: shortTerm)
        }
        check(rebuilt == vector, "2.2/2.3 built bit-exact")
    }
}

// RFC 5769 §2.4 (MD5 long-term key) and RFC 8489 B.1 as corrected (SHA-256 key).
let longTerm = IntegrityKey.longTerm(username: Vectors.rfc5769LongTermUsername, realm: Vectors.rfc5769LongTermRealm,
                                     password: Vectors.rfc5769LongTermPassword)
parsed(Vectors.rfc5769LongTermRequest) { m in check(m.checkIntegrity(longTerm) == .ok, "2.4 long-term MD5 key") }
let sha256Key = IntegrityKey.longTerm(username: Vectors.rfc8489B1Username, realm: Vectors.rfc8489B1Realm,
                                      password: Vectors.rfc8489B1Password, algorithm: .sha256)
parsed(Vectors.rfc8489B1Corrected) { m in check(m.checkIntegritySHA256(sha256Key) == .ok, "8489 B.1 MESSAGE-INTEGRITY-SHA256") }

// Malformed input is a typed error, not a trap.
var truncated = Vectors.rfc5769Request
truncated.removeLast(3)
truncated.withUnsafeBytes { raw in
    do throws(ParseError) {
        _ = try Message(parsing: raw)
        check(false, "truncated message rejected")
    } catch {
        check(error == .lengthBeyondData, "truncated message: length-beyond-data")
    }
}

// RFC 8489 §6.2.1 schedule with Int64 time on 32-bit targets.
var timer = Retransmission(now: .zero)
var now = Instant.zero
var sends = 0
while timer.poll(now: now) == .send {
    sends += 1
    now = timer.deadline
}
check(sends == 7 && (now - .zero).milliseconds == 39_500, "retransmission schedule")

// Two ICE agents connect in memory: checks, nomination, then consent for a minute.
func connectTwoAgents() {
    var ca = AgentConfiguration()
    ca.role = .controlling
    var cb = AgentConfiguration()
    cb.role = .controlling  // both controlling: the 487 role conflict must resolve it
    let a = Agent(configuration: ca, random: SeededRandom(seed: 11))
    let b = Agent(configuration: cb, random: SeededRandom(seed: 12))
    do throws(ICEError) {
        _ = try a.addHostCandidate(base: TransportAddress(.v4(0xC000_0201), 5000))
        _ = try b.addHostCandidate(base: TransportAddress(.v6(0x2001_0DB8_0000_0000, 2), 6000))
        _ = try b.addHostCandidate(base: TransportAddress(.v4(0xC000_0202), 6000))
        let link = DirectLink(a, b, latency: .milliseconds(10))
        try link.exchangeCandidates()
        let connected = link.run(until: .zero + .seconds(5)) { a.state == .completed && b.state == .completed }
        check(connected, "two agents complete")
        check(a.role != b.role, "role conflict resolved")
        check(link.now <= .zero + .milliseconds(100), "connected within a few RTTs")
        let pa = a.selectedPair(), pb = b.selectedPair()
        check(pa != nil && pb != nil && pa!.nominated && pb!.nominated, "selected pairs nominated")
        if let pa, let pb { check(pa.local.address == pb.remote.address && pa.remote.address == pb.local.address, "pairs mirror") }
        let stayed = !link.run(until: link.now + .seconds(60)) { a.state != .completed || b.state != .completed }
        check(stayed, "consent keeps the session for 60 s")
    } catch {
        check(false, "agent setup")
    }
}
connectTwoAgents()
crc32SelfTest()
dtlsSelfTest()
srtpSelfTest()

if failures == 0 {
    print("device-selftest: all \(checks) checks passed")
    exit(0)
} else {
    print("device-selftest: \(failures) of \(checks) checks FAILED")
    exit(1)
}
