import Common

/// JSON string literal with RFC 8259 escaping; bytes that are not valid UTF-8 are replaced
/// (U+FFFD) rather than failing, since decode shows whatever a peer sent.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                out += "\\u00" + (u.value < 0x10 ? "0" : "") + hexString(UInt64(u.value))
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

func jsonString(utf8 bytes: UnsafeRawBufferPointer) -> String {
    jsonString(String(decoding: bytes, as: UTF8.self))
}
