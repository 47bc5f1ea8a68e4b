import Common

/// Builds one JSON text (RFC 8259) by appending members and values in order, with string
/// escaping in one place. Commas are tracked per nesting level.
public struct JSONWriter {
    public private(set) var text = ""
    /// Per open object or array: whether it has a member yet.
    var hasMember: [Bool] = []

    public init() {}

    public mutating func beginObject(_ key: String? = nil) { open(key, "{") }
    public mutating func endObject() { close("}") }
    public mutating func beginArray(_ key: String? = nil) { open(key, "[") }
    public mutating func endArray() { close("]") }

    public mutating func member(_ key: String, _ value: String) {
        separate(key)
        JSONWriter.appendString(value, to: &text)
    }

    public mutating func member(_ key: String, _ value: Int) {
        separate(key)
        text += String(value)
    }

    public mutating func member(_ key: String, _ value: Bool) {
        separate(key)
        text += value ? "true" : "false"
    }

    mutating func open(_ key: String?, _ bracket: String) {
        separate(key)
        text += bracket
        hasMember.append(false)
    }

    mutating func close(_ bracket: String) {
        if !hasMember.isEmpty { hasMember.removeLast() }
        text += bracket
    }

    mutating func separate(_ key: String?) {
        if let last = hasMember.last {
            if last { text += "," }
            hasMember[hasMember.count - 1] = true
        }
        if let key {
            JSONWriter.appendString(key, to: &text)
            text += ":"
        }
    }

    /// A string literal with RFC 8259 §7 escaping.
    public static func appendString(_ s: String, to out: inout String) {
        out += "\""
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
        out += "\""
    }
}
