import Common
import STUN
import Testing

/// The parser's index keeps value offsets only (a quarter each) and reads types and lengths
/// back from the message; the header fields are read from the bytes too. These pin what that
/// must preserve: exact entries, offsets past 65535, and the unknown-type test it uses.
@Suite struct AttributeIndexTests {
    @Test func entriesReadBackExactly() throws {
        // Lengths 0, 1, 4, 5 and 20 (padding 0..3), optional and comprehension-required types.
        let body = tlv(0x0025, []) + tlv(0x8022, [0x41]) + tlv(0x0024, [0, 0, 0, 1]) + tlv(0x0006, [1, 2, 3, 4, 5])
            + tlv(0x7F01, [UInt8](repeating: 3, count: 20))
        try withParsed(rawMessage(type: 0x0111, body: body)) { m throws in
            let expected: [(UInt16, UInt16, UInt32)] = [(0x0025, 0, 24), (0x8022, 1, 28), (0x0024, 4, 36), (0x0006, 5, 44),
                                                        (0x7F01, 20, 56)]
            #expect(m.attributes.count == expected.count)
            for (i, (type, length, offset)) in expected.enumerated() {
                let e = m.attributes[i]
                #expect(e.type == AttributeType(type) && e.length == length && e.offset == offset, "entry \(i)")
            }
            #expect(m.attributes.first(.username)?.offset == 44)
            #expect(m.attributes.first(.messageIntegrity) == nil)
            #expect(m.type == MessageType(.binding, .errorResponse))
            #expect(m.cookieField == magicCookie)
            #expect(m.transactionID == TransactionID(high: 0x5A5A_5A5A, low: 0x5A5A_5A5A_5A5A_5A5A))
            #expect(m.unknownComprehensionRequired.count == 1 && m.unknownComprehensionRequired[0] == AttributeType(0x7F01))
        }
    }

    /// A near-maximal message: the attributes after a 65,400-byte DATA sit past offset 65535,
    /// which 16 bits hold only as quarters. Integrity and fingerprint are found and verify.
    @Test func offsetsBeyond16Bits() throws {
        let key = IntegrityKey.shortTerm(password: "pass")
        var buffer = [UInt8](repeating: 0, count: 65_600)
        let count = try buffer.withUnsafeMutableBytes { raw throws(BuildError) -> Int in
            var b = try MessageBuilder(into: raw, type: .bindingIndication, transactionID: TransactionID(high: 1, low: 2))
            try b.append(.data, array: [UInt8](repeating: 0xA5, count: 65_400))
            try b.append(.priority, uint32: 0xDEAD_BEEF)
            try b.appendMessageIntegrity(key)
            try b.appendFingerprint()
            return b.count
        }
        #expect(count == 20 + 4 + 65_400 + 8 + 24 + 8)
        try withParsed(Array(buffer[0..<count])) { m throws in
            #expect(m.attributes.count == 4)
            #expect(m.attributes[0].length == 65_400 && m.attributes[0].offset == 24)
            #expect(m.attributes[1].type == .priority && m.attributes[1].offset == 65_428)
            #expect(try m.priority() == 0xDEAD_BEEF)
            #expect(m.integrityOffset == 65_432)
            #expect(m.fingerprintOffset == 65_456)
            #expect(m.attributes[3].type == .fingerprint && m.attributes[3].offset == 65_460)
            #expect(m.checkIntegrity(key) == .ok)
            #expect(m.checkFingerprint() == .ok)
        }
    }

    /// The parser's bit test for "comprehension-required and unknown" agrees with the codec's
    /// table of known types (`info`) for every type.
    @Test func unknownComprehensionRequiredMatchesInfo() {
        var unknownRequired = 0
        for raw in 0...0xFFFF {
            let t = AttributeType(UInt16(raw))
            let expected = t.isComprehensionRequired && t.info == nil
            #expect(t.isUnknownComprehensionRequired == expected, "type \(raw)")
            if expected { unknownRequired += 1 }
        }
        #expect(unknownRequired == 0x8000 - 30)  // 30 known comprehension-required types
    }
}
