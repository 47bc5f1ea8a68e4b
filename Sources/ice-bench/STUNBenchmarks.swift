import CMbedTLS
import Common
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
    request.withUnsafeBytes { raw in
        let message = UnsafeRawBufferPointer(rebasing: raw[0..<length])
        measure("parse", iterations: iterations) {
            if let m = try? Message(parsing: message) { sink &+= m.attributes.count }
        }
        measure("parse+integrity+fingerprint", iterations: iterations) {
            guard let m = try? Message(parsing: message) else { fatalError("vector does not parse") }
            guard m.checkIntegrity(key) == .ok, m.checkFingerprint() == .ok else { fatalError("vector does not verify") }
            sink &+= 1
        }
        // The two checks on their own, to show where parse+verify spends its time.
        let parsedOnce = try! Message(parsing: message)
        measure("integrity-check", iterations: iterations) { sink &+= parsedOnce.checkIntegrity(key) == .ok ? 1 : 0 }
        measure("fingerprint-check", iterations: iterations) { sink &+= parsedOnce.checkFingerprint() == .ok ? 1 : 0 }
        _ = out.withUnsafeMutableBytes { outRaw in
            measure("build+sign", iterations: iterations) { sink &+= buildRequest(into: outRaw) }
        }
        sink &+= measureFreshKeyHMAC(password: password, message: message, iterations: iterations)
    }
    if sink == 42 { print("") }  // keeps the optimizer from discarding the work
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
