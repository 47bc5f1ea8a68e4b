// Text forms of addresses: dotted quad, RFC 5952 canonical IPv6, and "ip:port" /
// "[v6]:port". Parsing works on UTF-8 bytes so it never allocates.

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
        case .v6(let hi, let lo):
            var groups: [UInt16] = []
            groups.reserveCapacity(8)
            for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64(i)))) }
            for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64(i)))) }
            // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero groups.
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0...8 {
                if i < 8 && groups[i] == 0 {
                    if runStart < 0 { runStart = i }
                } else if runStart >= 0 {
                    if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
            if hi == 0 && lo >> 32 == 0xFFFF {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: lo)).description
            }
            var out = ""
            var i = 0
            while i < 8 {
                if i == bestStart {
                    out += "::"
                    i += bestLength
                    continue
                }
                if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
                out += hexString(UInt64(groups[i]))
                i += 1
            }
            return out
        }
    }

    /// Parses dotted-quad IPv4 or textual IPv6 (with `::` and an optional trailing dotted quad).
    public init?(_ text: String) {
        var copy = text
        guard let parsed = copy.withUTF8({ IPAddress(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    public init?(utf8 s: UnsafeRawBufferPointer) {
        if let v4 = IPAddress.parseV4(s) {
            self = .v4(v4)
        } else if let (hi, lo) = IPAddress.parseV6(s) {
            self = .v6(hi, lo)
        } else {
            return nil
        }
    }

    static func parseV4(_ s: UnsafeRawBufferPointer) -> UInt32? {
        var value: UInt32 = 0, part: UInt32 = 0, digits = 0, dots = 0
        for c in s {
            if c >= 0x30 && c <= 0x39 {
                // No leading zeros ("01") to avoid octal ambiguity; at most 3 digits.
                if digits == 1 && part == 0 { return nil }
                part = part * 10 + UInt32(c - 0x30)
                digits += 1
                if digits > 3 || part > 255 { return nil }
            } else if c == 0x2E {
                if digits == 0 || dots == 3 { return nil }
                value = value << 8 | part
                part = 0; digits = 0; dots += 1
            } else {
                return nil
            }
        }
        if digits == 0 || dots != 3 { return nil }
        return value << 8 | part
    }

    static func parseV6(_ s: UnsafeRawBufferPointer) -> (UInt64, UInt64)? {
        guard s.count >= 2 && s.count <= 45 else { return nil }
        var groups = InlineArray<8, UInt16>(repeating: 0)
        var count = 0, gapAt = -1, i = 0
        if s[0] == 0x3A {
            guard s[1] == 0x3A else { return nil }
            gapAt = 0
            i = 2
        }
        while i < s.count {
            var j = i, hasDot = false
            while j < s.count && s[j] != 0x3A {
                if s[j] == 0x2E { hasDot = true }
                j += 1
            }
            if hasDot {
                // A trailing dotted quad fills the last two groups.
                guard j == s.count, count <= 6,
                    let v4 = parseV4(UnsafeRawBufferPointer(rebasing: s[i..<j]))
                else { return nil }
                groups[count] = UInt16(v4 >> 16)
                groups[count + 1] = UInt16(v4 & 0xFFFF)
                count += 2
                break
            }
            guard j - i >= 1 && j - i <= 4, count < 8 else { return nil }
            var v: UInt16 = 0
            for k in i..<j {
                guard let d = hexDigitValue(s[k]) else { return nil }
                v = v << 4 | UInt16(d)
            }
            groups[count] = v
            count += 1
            if j == s.count { break }
            if j + 1 < s.count && s[j + 1] == 0x3A {
                guard gapAt < 0 else { return nil }
                gapAt = count
                i = j + 2
            } else {
                guard j + 1 < s.count else { return nil }  // trailing single ':'
                i = j + 1
            }
        }
        let zeros: Int
        if gapAt >= 0 {
            guard count < 8 else { return nil }
            zeros = 8 - count
        } else {
            guard count == 8 else { return nil }
            zeros = 0
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0..<count {
            let index = (gapAt >= 0 && k >= gapAt) ? k + zeros : k
            let v = UInt64(groups[k])
            if index < 4 { hi |= v << (48 - 16 * UInt64(index)) } else { lo |= v << (48 - 16 * UInt64(index - 4)) }
        }
        return (hi, lo)
    }
}

extension TransportAddress: CustomStringConvertible {
    /// "192.0.2.1:3478" or "[2001:db8::1]:3478".
    public var description: String {
        ip.isIPv4 ? "\(ip.description):\(port)" : "[\(ip.description)]:\(port)"
    }

    /// Parses "ip:port" or "[v6]:port".
    public init?(_ text: String) {
        var copy = text
        guard let parsed = copy.withUTF8({ TransportAddress(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    public init?(utf8 s: UnsafeRawBufferPointer) {
        guard let colon = s.lastIndex(of: 0x3A), colon > 0 else { return nil }
        var hostPart = UnsafeRawBufferPointer(rebasing: s[0..<colon])
        if hostPart.first == 0x5B {
            guard hostPart.last == 0x5D, hostPart.count > 2 else { return nil }
            hostPart = UnsafeRawBufferPointer(rebasing: hostPart[1..<(hostPart.count - 1)])
            guard let v6 = IPAddress.parseV6(hostPart) else { return nil }
            self.ip = .v6(v6.0, v6.1)
        } else {
            guard let v4 = IPAddress.parseV4(hostPart) else { return nil }
            self.ip = .v4(v4)
        }
        guard let p = parseDecimal(UnsafeRawBufferPointer(rebasing: s[(colon + 1)...])), p <= 65535 else { return nil }
        self.port = UInt16(p)
    }
}

/// Parses an unsigned decimal of at most 9 digits.
public func parseDecimal(_ s: UnsafeRawBufferPointer) -> Int? {
    guard !s.isEmpty && s.count <= 9 else { return nil }
    var v = 0
    for c in s {
        guard c >= 0x30 && c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
    }
    return v
}

@inline(__always)
public func hexDigitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
