import Common
import Daemon

/// JSON string literal with RFC 8259 escaping (`JSONWriter`'s); bytes that are not valid
/// UTF-8 are replaced (U+FFFD) rather than failing, since decode shows whatever a peer sent.
func jsonString(_ s: String) -> String {
    var out = ""
    JSONWriter.appendString(s, to: &out)
    return out
}

func jsonString(utf8 bytes: UnsafeRawBufferPointer) -> String {
    jsonString(String(decoding: bytes, as: UTF8.self))
}
