import Common
import STUN
import STUNTestVectors
import Testing

/// Every malformation class gets its own typed error; nothing reads past the buffer.
@Suite struct MalformedTests {
    let priority = tlv(0x0024, [0, 0, 0, 1])

    @Test func truncatedHeader() {
        #expect(parseError([]) == .truncatedHeader)
        #expect(parseError(Array(rawMessage(body: []).prefix(19))) == .truncatedHeader)
    }

    @Test func notSTUN() {
        // An RTP header (version 2) and a ChannelData frame (0x40..) have top bits set.
        var rtp = rawMessage(body: [])
        rtp[0] = 0x80
        #expect(parseError(rtp) == .notSTUN)
        var channelData = rawMessage(body: [])
        channelData[0] = 0x40
        #expect(parseError(channelData) == .notSTUN)
    }

    @Test func lengthNotMultipleOf4() {
        #expect(parseError(rawMessage(body: priority + [0, 0])) == .lengthNotMultipleOf4)
    }

    @Test func lengthBeyondData() {
        #expect(parseError(rawMessage(body: priority, length: 12)) == .lengthBeyondData)
        #expect(parseError(rawMessage(body: [], length: 0xFFFC)) == .lengthBeyondData)
    }

    @Test func attributeOverrun() {
        // The attribute claims 100 bytes inside an 8-byte body.
        #expect(parseError(rawMessage(body: [0x00, 0x24, 0x00, 0x64, 0, 0, 0, 1])) == .attributeOverrun)
        // Declared length inside the datagram, attribute beyond the declared length.
        #expect(parseError(rawMessage(body: priority + priority, length: 8 + 4)) == .attributeOverrun)
    }

    @Test func badPadding() {
        // An unpadded 5-byte USERNAME as old implementations send it.
        #expect(parseError(rawMessage(body: tlv(0x0006, [1, 2, 3, 4, 5], pad: false))) == .badPadding)
    }

    @Test func integrityWrongSize() {
        #expect(parseError(rawMessage(body: tlv(0x0008, [UInt8](repeating: 1, count: 16)))) == .integrityWrongSize)
        #expect(parseError(rawMessage(body: tlv(0x001C, [UInt8](repeating: 1, count: 12)))) == .integritySHA256WrongSize)
        #expect(parseError(rawMessage(body: tlv(0x001C, [UInt8](repeating: 1, count: 18)))) == .integritySHA256WrongSize)
    }

    @Test func fingerprintRules() {
        #expect(parseError(rawMessage(body: tlv(0x8028, [1, 2]))) == .fingerprintWrongSize)
        #expect(parseError(rawMessage(body: tlv(0x8028, [1, 2, 3, 4]) + priority)) == .fingerprintNotLast)
    }

    @Test func tooManyAttributes() {
        let fits = [UInt8]((0..<AttributeIndex.capacity).flatMap { _ in priority })
        #expect(parseError(rawMessage(body: fits)) == nil)
        #expect(parseError(rawMessage(body: fits + priority)) == .tooManyAttributes)
    }

    @Test func attributesAfterIntegrityAreIgnored() throws {
        let body = priority + tlv(0x0008, [UInt8](repeating: 7, count: 20)) + tlv(0x8022, [0x41, 0x42, 0x43, 0x44])
            + tlv(0x001C, [UInt8](repeating: 9, count: 32)) + tlv(0x8028, [0, 0, 0, 0])
        try withParsed(rawMessage(body: body)) { m throws in
            #expect(m.contains(.priority))
            #expect(m.value(.software) == nil)  // after MESSAGE-INTEGRITY: ignored (RFC 8489 §14.5)
            #expect(m.contains(.messageIntegritySHA256))
            #expect(m.contains(.fingerprint))
            #expect(m.attributes.count == 4)
        }
    }

    @Test func unknownComprehensionRequiredCollected() throws {
        let body = tlv(0x7F01, [1, 2, 3, 4]) + tlv(0xC001, [5]) + tlv(0x7F01, []) + tlv(0x7F02, []) + priority
        try withParsed(rawMessage(body: body)) { m throws in
            #expect(m.unknownComprehensionRequired.count == 2)  // deduplicated; 0xC001 is optional
            #expect(m.unknownComprehensionRequired[0] == AttributeType(0x7F01))
            #expect(m.unknownComprehensionRequired[1] == AttributeType(0x7F02))
        }
    }

    @Test func trailingBytesAreNotPartOfTheMessage() throws {
        try withParsed(rawMessage(body: priority) + [1, 2, 3]) { m throws in
            #expect(m.bytes.count == 28)
            #expect(m.length == 8)
        }
    }

    @Test func badAttributeValuesAreTypedErrors() throws {
        let body = tlv(0x0020, [0, 3, 0, 1, 1, 2, 3, 4]) + tlv(0x0001, [0, 1, 0, 1, 1, 2]) + tlv(0x0009, [0, 0, 7, 1])
        try withParsed(rawMessage(body: body)) { m throws in
            #expect(throws: AttributeError.unknownAddressFamily) { try m.xorAddress(.xorMappedAddress) }
            #expect(throws: AttributeError.wrongLength) { try m.address(.mappedAddress) }
            #expect(throws: AttributeError.invalidErrorClass) { try m.errorCode() }
        }
    }

    /// Deterministic mutation fuzzing of the vectors: every input parses or gives a typed
    /// error, and the view never extends past the input. (libFuzzer runs longer in CI.)
    @Test func mutatedVectorsNeverCrash() {
        var random = SeededRandom(seed: 5769)
        let seeds = [Vectors.rfc5769Request, Vectors.rfc5769IPv4Response, Vectors.rfc5769IPv6Response,
                     Vectors.rfc5769LongTermRequest, Vectors.rfc8489B1Corrected]
        let key = IntegrityKey.shortTerm(password: "x")
        var parsed = 0
        for i in 0..<20_000 {
            var input = seeds[i % seeds.count]
            for _ in 0...(random.next() % 4) {
                let pos = Int(random.next() % UInt64(input.count))
                switch random.next() % 3 {
                case 0: input[pos] = UInt8(truncatingIfNeeded: random.next())
                case 1: input.removeLast(Int(random.next() % UInt64(input.count - pos)))
                default: input[pos] ^= 1 << UInt8(random.next() % 8)
                }
                if input.isEmpty { break }
            }
            input.withUnsafeBytes { raw in
                guard let m = try? Message(parsing: raw) else { return }
                parsed += 1
                #expect(m.bytes.count <= raw.count)
                for j in 0..<m.attributes.count {
                    let e = m.attributes[j]
                    #expect(Int(e.offset) + Int(e.length) <= m.bytes.count)
                }
                _ = m.checkIntegrity(key)
                _ = m.checkIntegritySHA256(key)
                _ = m.checkFingerprint()
                _ = try? m.mappedAddress()
            }
        }
        #expect(parsed > 1000)  // the mutations must also reach the attribute code
    }
}
