import CLinux
import CMbedTLS
import Common
import Runtime
import STUN

/// The RFC 5769-style ICE connectivity check: USERNAME, PRIORITY, ICE-CONTROLLING,
/// USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
func runSTUNBenchmarks(iterations: Int) {
    let password = "VOkJxbRl1RmTxUk/WvJxBt"
    let key = IntegrityKey.shortTerm(password: password)
    let id = TransactionID(high: 0xB7E7_A701, low: 0xBC34_D686_FA87_DFAE)
    var request = [UInt8](repeating: 0, count: 256)
    var out = [UInt8](repeating: 0, count: 256)

    func buildRequest(into raw: UnsafeMutableRawBufferPointer) -> Int {
        var b = try! MessageBuilder(into: raw, type: .bindingRequest, transactionID: id)
        try! b.append(.username, text: "evtj:h6vY" as StaticString)
        try! b.append(.priority, uint32: 0x6E00_01FF)
        try! b.append(.iceControlling, uint64: 0x932F_F9B1_5126_3B36)
        try! b.appendFlag(.useCandidate)
        try! b.appendMessageIntegrity(key)
        try! b.appendFingerprint()
        return b.count
    }
    let length = request.withUnsafeMutableBytes { buildRequest(into: $0) }
    print("message: ICE Binding request, \(length) bytes")

    var sink = 0
    var ours: [(stage: String, ns: Double)] = []
    request.withUnsafeBytes { raw in
        let message = UnsafeRawBufferPointer(rebasing: raw[0..<length])
        let parse = measure("parse", iterations: iterations) {
            if let m = try? Message(parsing: message) { sink &+= m.attributes.count }
        }
        let all = measure("parse+integrity+fingerprint", iterations: iterations) {
            guard let m = try? Message(parsing: message) else { fatalError("vector does not parse") }
            guard m.checkIntegrity(key) == .ok, m.checkFingerprint() == .ok else { fatalError("vector does not verify") }
            sink &+= 1
        }
        // The two checks on their own, to show where parse+verify spends its time.
        let parsedOnce = try! Message(parsing: message)
        let integrity = measure("integrity-check", iterations: iterations) {
            sink &+= parsedOnce.checkIntegrity(key) == .ok ? 1 : 0
        }
        let fingerprint = measure("fingerprint-check", iterations: iterations) {
            sink &+= parsedOnce.checkFingerprint() == .ok ? 1 : 0
        }
        ours = [("parse", parse.nsPerOp), ("fingerprint-check", fingerprint.nsPerOp),
                ("integrity-check", integrity.nsPerOp), ("parse+integrity+fingerprint", all.nsPerOp)]
        _ = out.withUnsafeMutableBytes { outRaw in
            measure("build+sign", iterations: iterations) { sink &+= buildRequest(into: outRaw) }
        }
        sink &+= measureFreshKeyHMAC(password: password, message: message, iterations: iterations)
    }
    if sink == 42 { print("") }  // keeps the optimizer from discarding the work
    let digits = Array("0123456789abcdef".unicodeScalars)
    var hex = ""
    for byte in request[0..<length] {
        hex.unicodeScalars.append(digits[Int(byte >> 4)])
        hex.unicodeScalars.append(digits[Int(byte & 0xF)])
    }
    comparePion(ours, hex: hex, password: password, iterations: iterations)
}

/// The same stages timed by pion/stun on the same bytes, in the same run (machine load moves
/// both alike), as one table. The Go program is optional: without it the figures above stand.
func comparePion(_ ours: [(stage: String, ns: Double)], hex: String, password: String, iterations: Int) {
    let program = ".build-interop/pion-stun-bench"
    guard access(program, X_OK) == 0 else {
        print("pion/stun comparison: not built (run interop/build_pion_stun_bench.sh from the package root; needs golang-go and golang-github-pion-stun-dev)")
        return
    }
    let output = "/tmp/ice-bench-pion-stun-\(getpid()).txt"
    defer { _ = unlink(output) }
    let status = system("\(program) --hex \(hex) --password '\(password)' --iterations \(iterations) > \(output)")
    guard status == 0, let text = readFile(output, limit: 4096) else {
        // system(3) returns a wait status: the exit code is in bits 8-15.
        printError("ice-bench stun: \(program) failed (exit status \(status >> 8)); pion/stun comparison left out")
        return
    }
    // "version <pion/stun> <go>", then "<stage> <ns/op> <allocations> <ops>" per stage.
    var version = "?"
    var pion: [String: (ns: Double, allocations: Int, ops: Int)] = [:]
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
        let f = line.split(separator: " ").map(String.init)
        if f.count == 3 && f[0] == "version" { version = "\(f[1]) (\(f[2]))" }
        if f.count == 4, let ns = Double(f[1]), let allocations = Int(f[2]), let ops = Int(f[3]) {
            pion[f[0]] = (ns, allocations, ops)
        }
    }
    print("pion/stun \(version) on the same bytes (ratio: ice-agent ns over pion ns; pion allocations: total over its 3 rounds):")
    print("| stage | ice-agent ns | pion ns | ratio | pion allocations |")
    print("|---|---|---|---|---|")
    for (stage, ns) in ours {
        guard let p = pion[stage] else {
            print("| \(stage) | \(format(ns)) | - | - | - |")
            continue
        }
        print("| \(stage) | \(format(ns)) | \(format(p.ns)) | \(formatRatio(ns / p.ns)) | \(p.allocations) in \(p.ops) ops |")
    }
}

/// Two decimals: the ratios of interest sit around 1.
func formatRatio(_ v: Double) -> String {
    let hundredths = Int(v * 100 + 0.5)
    let frac = hundredths % 100
    return "\(hundredths / 100)." + (frac < 10 ? "0\(frac)" : "\(frac)")
}

/// The floor to compare with: one mbedTLS HMAC-SHA1 over the same bytes (less FINGERPRINT)
/// with the key set up from scratch, as a codec without prepared keys does per message.
func measureFreshKeyHMAC(password: String, message: UnsafeRawBufferPointer, iterations: Int) -> Int {
    var sink = 0
    var mac = [UInt8](repeating: 0, count: 20)
    var pw = password
    pw.withUTF8 { pwBytes in
        mac.withUnsafeMutableBufferPointer { macOut in
            let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1)
            measure("mbedtls-hmac-sha1-fresh-key", iterations: iterations) {
                _ = mbedtls_md_hmac(info, pwBytes.baseAddress, pwBytes.count,
                                    message.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count - 8,
                                    macOut.baseAddress)
                sink &+= Int(macOut[0])
            }
        }
    }
    return sink
}
