import Common
import STUN

/// Parses `bytes` and hands the view to `body` while the bytes are alive.
func withParsed<T>(_ bytes: [UInt8], _ body: (Message) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { raw in
        let m = try Message(parsing: raw)
        return try body(m)
    }
}

/// The parse error for `bytes`, or nil when they parse.
func parseError(_ bytes: [UInt8]) -> ParseError? {
    bytes.withUnsafeBytes { raw in
        do throws(ParseError) {
            _ = try Message(parsing: raw)
            return nil
        } catch {
            return error
        }
    }
}

/// Builds a message into a fresh 2 KiB buffer and returns exactly its bytes.
func build(_ type: MessageType, _ id: TransactionID, padding: UInt8 = 0,
           _ body: (inout MessageBuilder) throws(BuildError) -> Void) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: 2048)
    let count = try buffer.withUnsafeMutableBytes { raw throws(BuildError) -> Int in
        var b = try MessageBuilder(into: raw, type: type, transactionID: id)
        b.paddingByte = padding
        try body(&b)
        return b.count
    }
    return Array(buffer[0..<count])
}

func transactionID(_ bytes: [UInt8]) -> TransactionID {
    bytes.withUnsafeBytes { TransactionID(bytes: $0) }
}

func text(_ v: UnsafeRawBufferPointer?) -> String? {
    v.map { String(decoding: $0, as: UTF8.self) }
}

/// Raw message from a type, transaction id and pre-encoded attribute bytes; the header
/// length is `length` if given (to forge lying headers), else the real one.
func rawMessage(type: UInt16 = 0x0001, body: [UInt8], length: Int? = nil) -> [UInt8] {
    let len = length ?? body.count
    var m: [UInt8] = [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(len >> 8), UInt8(len & 0xFF),
                      0x21, 0x12, 0xA4, 0x42]
    m += [UInt8](repeating: 0x5A, count: 12)
    return m + body
}

/// One TLV attribute with the value as given and zero padding.
func tlv(_ type: UInt16, _ value: [UInt8], pad: Bool = true) -> [UInt8] {
    var a: [UInt8] = [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)]
    a += value
    if pad { a += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4) }
    return a
}

extension MessageBuilder {
    mutating func append(_ type: AttributeType, array: [UInt8]) throws(BuildError) {
        let failure = array.withUnsafeBytes { bytes -> BuildError? in
            do throws(BuildError) {
                try self.append(type, bytes: bytes)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
    }
}
