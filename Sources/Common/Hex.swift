// Hexadecimal text for diagnostics and the CLI; never on the packet path.

private let hexDigits: StaticString = "0123456789abcdef"

/// Lower-case hex of `value` without leading zeros ("0" for zero).
public func hexString(_ value: UInt64) -> String {
    if value == 0 { return "0" }
    var out = ""
    var started = false
    for shift in stride(from: 60, through: 0, by: -4) {
        let d = Int((value >> UInt64(shift)) & 0xF)
        if d != 0 { started = true }
        if started { out.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[d])) }
    }
    return out
}

/// Lower-case hex of the bytes, two digits each.
public func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    var out = ""
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[Int(b >> 4)]))
        out.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[Int(b & 0xF)]))
    }
    return out
}

/// Fixed-width lower-case hex of a 16-bit value ("0x0020").
public func hexUInt16(_ v: UInt16) -> String {
    var out = "0x"
    for shift in [12, 8, 4, 0] {
        out.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[Int((v >> UInt16(shift)) & 0xF)]))
    }
    return out
}

/// Decodes hex text (whitespace ignored). Nil on an odd digit count or a non-hex character.
public func decodeHex(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var high: UInt8? = nil
    for c in text {
        if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { continue }
        guard let d = hexDigitValue(c) else { return nil }
        if let h = high {
            out.append(h << 4 | d)
            high = nil
        } else {
            high = d
        }
    }
    return high == nil ? out : nil
}
