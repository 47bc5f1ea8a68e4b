import Common
import STUN
import Testing

@Suite struct RoundTripTests {
    let id = TransactionID(high: 0x0102_0304, low: 0x0506_0708_090A_0B0C)
    let v4 = TransportAddress("192.0.2.1:32853")!
    let v6 = TransportAddress("[2001:db8::ff00:42:8329]:3478")!

    @Test func messageTypeEncoding() {
        // RFC 8489 §5 / RFC 8656 §17 well-known type values.
        #expect(MessageType.bindingRequest.rawValue == 0x0001)
        #expect(MessageType.bindingIndication.rawValue == 0x0011)
        #expect(MessageType.bindingSuccess.rawValue == 0x0101)
        #expect(MessageType.bindingError.rawValue == 0x0111)
        #expect(MessageType(.allocate, .request).rawValue == 0x0003)
        #expect(MessageType(.allocate, .errorResponse).rawValue == 0x0113)
        #expect(MessageType(.send, .indication).rawValue == 0x0016)
        #expect(MessageType(.data, .indication).rawValue == 0x0017)
        #expect(MessageType(.channelBind, .successResponse).rawValue == 0x0109)
        for raw in UInt16(0)..<0x4000 {
            #expect(MessageType(rawValue: raw).rawValue == raw)
        }
    }

    @Test(arguments: [AttributeType.xorMappedAddress, .xorPeerAddress, .xorRelayedAddress])
    func xorAddresses(type: AttributeType) throws {
        for a in [v4, v6] {
            let bytes = try build(.bindingSuccess, id) { b throws(BuildError) in try b.append(type, xorAddress: a) }
            try withParsed(bytes) { m throws in #expect(try m.xorAddress(type) == a) }
        }
    }

    @Test(arguments: [AttributeType.mappedAddress, .alternateServer, .responseOrigin, .otherAddress])
    func plainAddresses(type: AttributeType) throws {
        for a in [v4, v6] {
            let bytes = try build(.bindingSuccess, id) { b throws(BuildError) in try b.append(type, address: a) }
            try withParsed(bytes) { m throws in
                #expect(try m.address(type) == a)
                // The plain and XOR encodings must differ on the wire.
                #expect((try? m.xorAddress(type)) != a)
            }
        }
    }

    @Test func mappedAddressPrefersXOR() throws {
        let other = TransportAddress("198.51.100.7:9")!
        let bytes = try build(.bindingSuccess, id) { b throws(BuildError) in
            try b.append(.mappedAddress, address: other)
            try b.append(.xorMappedAddress, xorAddress: v4)
        }
        try withParsed(bytes) { m throws in #expect(try m.mappedAddress() == v4) }
    }

    @Test(arguments: [AttributeType.username, .realm, .nonce, .software, .alternateDomain])
    func textAttributes(type: AttributeType) throws {
        for s in ["", "a", "abcd", "evtj:h6vY", "マトリックス"] {
            let bytes = try build(.bindingRequest, id) { b throws(BuildError) in try b.append(type, text: s) }
            #expect(bytes.count % 4 == 0)
            try withParsed(bytes) { m throws in #expect(text(m.value(type)) == s) }
        }
    }

    @Test func integers() throws {
        let bytes = try build(MessageType(.allocate, .request), id) { b throws(BuildError) in
            try b.append(.priority, uint32: 0x6E00_01FF)
            try b.append(.lifetime, uint32: 600)
            try b.append(.iceControlling, uint64: 0xFFFF_FFFF_FFFF_FFFE)
            try b.append(.iceControlled, uint64: 1)
            try b.append(.channelNumber, uint16: 0x4001)
            try b.append(.responsePort, uint16: 5555)
            try b.append(.requestedTransport, uint8: 17)
            try b.append(.requestedAddressFamily, uint8: 2)
            try b.append(.additionalAddressFamily, uint8: 2)
            try b.append(.changeRequest, uint32: 6)
        }
        try withParsed(bytes) { m throws in
            #expect(try m.priority() == 0x6E00_01FF)
            #expect(try m.uint32(.lifetime) == 600)
            #expect(try m.uint64(.iceControlling) == 0xFFFF_FFFF_FFFF_FFFE)
            #expect(try m.uint64(.iceControlled) == 1)
            #expect(try decodeUInt16(m.value(.channelNumber)!) == 0x4001)
            #expect(try decodeUInt16(m.value(.responsePort)!) == 5555)
            #expect(try decodeUInt8(m.value(.requestedTransport)!) == 17)
            #expect(try decodeUInt8(m.value(.requestedAddressFamily)!) == 2)
            #expect(try decodeUInt8(m.value(.additionalAddressFamily)!) == 2)
            #expect(try m.uint32(.changeRequest) == 6)
            // Reserved bits are zero on the wire (RFC 8656 §18.1).
            #expect(Array(m.value(.channelNumber)!) == [0x40, 0x01, 0, 0])
        }
    }

    @Test func flagsAndOpaque() throws {
        let token: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let payload: [UInt8] = Array(0..<37)
        let bytes = try build(MessageType(.send, .indication), id) { b throws(BuildError) in
            try b.appendFlag(.useCandidate)
            try b.appendFlag(.dontFragment)
            try b.append(.reservationToken, array: token)
            try b.append(.data, array: payload)
            try b.append(.evenPort, array: [0x80])
            try b.append(.icmp, array: [UInt8](repeating: 0, count: 8))
            try b.append(.padding, array: [UInt8](repeating: 0, count: 12))
            try b.appendPasswordAlgorithms([.md5, .sha256])
        }
        try withParsed(bytes) { m throws in
            #expect(m.value(.useCandidate)?.count == 0)
            #expect(m.value(.dontFragment)?.count == 0)
            #expect(m.value(.reservationToken).map(Array.init) == token)
            #expect(m.value(.data).map(Array.init) == payload)
            #expect(m.value(.evenPort).map(Array.init) == [0x80])
            #expect(m.value(.icmp)?.count == 8)
            #expect(m.value(.padding)?.count == 12)
            #expect(m.value(.passwordAlgorithms).map(Array.init) == [0, 1, 0, 0, 0, 2, 0, 0])
            #expect(m.unknownComprehensionRequired.isEmpty)
        }
    }

    @Test func errorCodeAndUnknownAttributes() throws {
        var unknown = UnknownAttributes()
        let request = rawMessage(body: tlv(0x7F01, []) + tlv(0x7F02, []))
        try withParsed(request) { m in unknown = m.unknownComprehensionRequired }
        let bytes = try build(.bindingError, id) { b throws(BuildError) in
            try b.appendErrorCode(420)
            try b.appendUnknownAttributes(unknown)
        }
        try withParsed(bytes) { m throws in
            let e = try #require(try m.errorCode())
            #expect(e.code == 420)
            #expect(String(decoding: e.reason, as: UTF8.self) == "Unknown Attribute")
            #expect(m.value(.unknownAttributes).map(Array.init) == [0x7F, 0x01, 0x7F, 0x02])
        }
        let addressError = try build(MessageType(.allocate, .errorResponse), id) { b throws(BuildError) in
            try b.appendAddressErrorCode(family: 2, 440)
        }
        try withParsed(addressError) { m throws in
            let e = try #require(try m.addressErrorCode())
            #expect(e.family == 2 && e.error.code == 440)
            #expect(String(decoding: e.error.reason, as: UTF8.self) == "Address Family not Supported")
        }
        _ = try build(.bindingError, id) { b throws(BuildError) in
            #expect(throws: BuildError.valueTooLong) { try b.appendErrorCode(700) }
        }
        for code in [300, 400, 401, 438, 487, 500, 508, 699] {
            let b2 = try build(.bindingError, id) { b throws(BuildError) in try b.appendErrorCode(code) }
            try withParsed(b2) { m throws in #expect((try m.errorCode())?.code == code) }
        }
    }

    @Test func truncatedSHA256IntegrityAndBothIntegrities() throws {
        let key = IntegrityKey.shortTerm(password: "pass")
        for length in [16, 20, 24, 28, 32] {
            let bytes = try build(.bindingRequest, id) { b throws(BuildError) in
                try b.append(.username, text: "a:b")
                try b.appendMessageIntegrity(key)
                try b.appendMessageIntegritySHA256(key, length: length)
                try b.appendFingerprint()
            }
            try withParsed(bytes) { m throws in
                #expect(m.checkIntegrity(key) == .ok)
                #expect(m.checkIntegritySHA256(key) == .ok)
                #expect(m.checkFingerprint() == .ok)
            }
            // Any flipped bit in the covered part breaks both MACs and the fingerprint.
            var tampered = bytes
            tampered[21] ^= 0x01
            try withParsed(tampered) { m throws in
                #expect(m.checkIntegrity(key) == .bad)
                #expect(m.checkIntegritySHA256(key) == .bad)
                #expect(m.checkFingerprint() == .bad)
            }
        }
    }

    @Test func builderRejectsWhatDoesNotFit() throws {
        var small = [UInt8](repeating: 0, count: 28)
        small.withUnsafeMutableBytes { raw in
            var b = try! MessageBuilder(into: raw, type: .bindingRequest, transactionID: id)
            #expect(throws: Never.self) { try b.append(.priority, uint32: 1) }
            #expect(throws: BuildError.bufferTooSmall) { try b.append(.priority, uint32: 2) }
        }
        var tiny = [UInt8](repeating: 0, count: 10)
        tiny.withUnsafeMutableBytes { raw in
            #expect(throws: BuildError.bufferTooSmall) { _ = try MessageBuilder(into: raw, type: .bindingRequest, transactionID: id) }
        }
        _ = try build(.bindingRequest, id) { b throws(BuildError) in
            try b.appendFingerprint()
            #expect(throws: BuildError.attributeAfterIntegrity) { try b.append(.priority, uint32: 1) }
        }
        _ = try build(.bindingRequest, id) { b throws(BuildError) in
            try b.appendMessageIntegrity(.shortTerm(password: "x"))
            #expect(throws: BuildError.attributeAfterIntegrity) { try b.append(.priority, uint32: 1) }
            try b.appendFingerprint()
        }
    }
}

