import Common
import Runtime
import STUN

/// `ice-agent stun decode`: one hex-encoded message per stdin line in, one JSON object per line
/// out. For checking the codec against traffic captured from other implementations.
struct StunDecode {
    var shortTermKey: IntegrityKey?
    /// user, realm, password for long-term credentials; the key depends on the message's
    /// PASSWORD-ALGORITHM, so it is derived per message (both variants cached).
    var longTerm: (md5: IntegrityKey, sha256: IntegrityKey)?

    static let spec = CommandSpec<StunDecode>(
        name: "stun decode", synopsis: "[--password P] [--long-term USER:REALM:PASSWORD]",
        about: "Reads hex-encoded STUN messages, one per line, on stdin; prints one JSON object per line\n"
            + "(with the MESSAGE-INTEGRITY verdict when a key is given).",
        options: [
            Option("--password", .value("P"), "short-term credential for MESSAGE-INTEGRITY") { c, v throws(UsageError) in
                c.shortTermKey = .shortTerm(password: v)
            },
            Option("--long-term", .value("USER:REALM:PASSWORD"), "long-term credential (MD5 or SHA-256 per PASSWORD-ALGORITHM)") {
                c, v throws(UsageError) in
                let parts = v.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { throw UsageError("--long-term needs USER:REALM:PASSWORD") }
                let (u, r, p) = (String(parts[0]), String(parts[1]), String(parts[2]))
                c.longTerm = (.longTerm(username: u, realm: r, password: p, algorithm: .md5),
                              .longTerm(username: u, realm: r, password: p, algorithm: .sha256))
            },
        ])

    init(arguments: [String]) throws(UsageError) {
        try StunDecode.spec.parse(arguments, into: &self)
    }

    func run() -> Int32 {
        var reader = LineReader(descriptor: 0)
        while true {
            let line: [UInt8]?
            do throws(LineReader.ReadError) {
                line = try reader.nextLine()
            } catch {
                printError("ice-agent: cannot read stdin: errno \(error.errno)")
                return 1
            }
            guard let line else { return 0 }
            let text = line.withUnsafeBytes { trimmed($0) }
            if text.isEmpty { continue }
            print(decodeLine(text))
        }
    }

    private func trimmed(_ b: UnsafeRawBufferPointer) -> [UInt8] {
        var start = 0, end = b.count
        while start < end && isSpace(b[start]) { start += 1 }
        while end > start && isSpace(b[end - 1]) { end -= 1 }
        return Array(b[start..<end])
    }

    private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    func decodeLine(_ text: [UInt8]) -> String {
        guard let bytes = text.withUnsafeBytes({ decodeHex($0) }) else { return "{\"error\":\"bad-hex\"}" }
        return bytes.withUnsafeBytes { raw -> String in
            do throws(ParseError) {
                let message = try Message(parsing: raw)
                return render(message)
            } catch {
                return "{\"error\":\"\(error.name)\"}"
            }
        }
    }

    func render(_ m: Message) -> String {
        var out = "{\"class\":\"\(m.messageClass.name)\",\"method\":\""
        if let name = m.method.name { out += name.description } else { out += "0x" + threeHex(m.method.rawValue) }
        out += "\",\"transaction\":\""
        if m.isClassic {
            // RFC 3489 ids are 128 bits: the cookie position is part of them.
            out += hexString(UnsafeRawBufferPointer(rebasing: m.bytes[4..<20]))
        } else {
            out += m.transactionID.hex
        }
        out += "\""
        if m.isClassic { out += ",\"classic\":true" }
        out += ",\"attributes\":["
        for i in 0..<m.attributes.count {
            if i > 0 { out += "," }
            out += renderAttribute(m, m.attributes[i])
        }
        out += "]"
        out += ",\"integrity\":\"\(integrity(m, sha256: false))\""
        out += ",\"integrity_sha256\":\"\(integrity(m, sha256: true))\""
        out += ",\"fingerprint\":\"\(m.checkFingerprint().name)\"}"
        return out
    }

    private func threeHex(_ v: UInt16) -> String {
        let h = hexString(UInt64(v))
        return String(repeating: "0", count: max(0, 3 - h.count)) + h
    }

    func integrity(_ m: Message, sha256: Bool) -> String {
        let present = sha256 ? m.integritySHA256Offset != nil : m.integrityOffset != nil
        if !present || m.isClassic { return present ? "unchecked" : "absent" }
        var key: IntegrityKey? = shortTermKey
        if let longTerm {
            // RFC 8489 §9.2.2: the key algorithm is the one PASSWORD-ALGORITHM names (MD5 if absent).
            let alg = m.value(.passwordAlgorithm).flatMap { v in v.count >= 2 ? v.loadBigEndianUInt16(at: 0) : nil }
            key = alg == PasswordAlgorithm.sha256.rawValue ? longTerm.sha256 : longTerm.md5
        }
        guard let key else { return "unchecked" }
        let r = sha256 ? m.checkIntegritySHA256(key) : m.checkIntegrity(key)
        return r.name.description
    }

    func renderAttribute(_ m: Message, _ e: AttributeEntry) -> String {
        let v = m.value(of: e)
        var out = "{\"type\":\"\(hexUInt16(e.type.rawValue))\",\"name\":\""
        guard let info = e.type.info else {
            return out + "UNKNOWN\",\"value\":\"\(hexString(v))\"}"
        }
        out += info.name.description + "\",\"value\":"
        do throws(AttributeError) {
            switch info.kind {
            case .address:
                out += "\"" + (try decodeAddress(v)).description + "\""
            case .xorAddress:
                out += "\"" + (try decodeXORAddress(v, transactionID: m.transactionID)).description + "\""
            case .text:
                out += jsonString(utf8: v)
            case .uint32:
                out += "\(try decodeUInt32(v))"
            case .uint64:
                out += "\(try decodeUInt64(v))"
            case .uint16:
                out += "\(try decodeUInt16(v))"
            case .protocolNumber, .family:
                out += "\(try decodeUInt8(v))"
            case .errorCode:
                let code = try ErrorCode(v)
                out += jsonString("\(code.code) " + String(decoding: code.reason, as: UTF8.self))
            case .addressErrorCode:
                guard v.count >= 4 else { throw .wrongLength }
                let code = try ErrorCode(v)  // same layout; byte 0 is the family
                out += jsonString("\(code.code) " + String(decoding: code.reason, as: UTF8.self))
            case .flag:
                guard v.isEmpty else { throw .wrongLength }
                out += "true"
            case .opaque:
                out += "\"" + hexString(v) + "\""
            }
        } catch {
            // A value that does not fit its type: show the bytes and say why.
            return out + "\"" + hexString(v) + "\",\"error\":\"\(error.name)\"}"
        }
        return out + "}"
    }
}

