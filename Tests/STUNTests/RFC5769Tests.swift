import Common
import STUN
import STUNTestVectors
import Testing

/// RFC 5769 test vectors, bit-exact in both directions, and RFC 8489 Appendix B.1.
@Suite struct RFC5769Tests {
    let shortTerm = IntegrityKey.shortTerm(password: Vectors.rfc5769ShortTermPassword)

    @Test func sampleRequestParses() throws {
        try withParsed(Vectors.rfc5769Request) { m throws in
            #expect(m.type == .bindingRequest)
            #expect(!m.isClassic)
            #expect(m.transactionID == transactionID(Vectors.rfc5769TransactionID))
            #expect(text(m.value(.software)) == Vectors.rfc5769RequestSoftware)
            #expect(try m.priority() == Vectors.rfc5769RequestPriority)
            #expect(try m.uint64(.iceControlled) == Vectors.rfc5769RequestIceControlledTieBreaker)
            #expect(text(try m.username()) == Vectors.rfc5769RequestUsername)
            #expect(m.attributes.count == 6)
            #expect(m.checkIntegrity(shortTerm) == .ok)
            #expect(m.checkIntegritySHA256(shortTerm) == .absent)
            #expect(m.checkFingerprint() == .ok)
            #expect(m.checkIntegrity(.shortTerm(password: "wrong")) == .bad)
        }
    }

    @Test func sampleRequestBuildsBitExact() throws {
        let built = try build(.bindingRequest, transactionID(Vectors.rfc5769TransactionID), padding: 0x20) { b throws(BuildError) in
            try Vectors.buildSampleRequest(&b, key: shortTerm)
        }
        #expect(built == Vectors.rfc5769Request)
    }

    @Test(arguments: [
        (Vectors.rfc5769IPv4Response, Vectors.rfc5769IPv4ResponseMappedAddress),
        (Vectors.rfc5769IPv6Response, Vectors.rfc5769IPv6ResponseMappedAddress),
    ])
    func responsesParseAndBuildBitExact(vector: [UInt8], mapped: String) throws {
        let expected = try #require(TransportAddress(mapped))
        try withParsed(vector) { m throws in
            #expect(m.type == .bindingSuccess)
            #expect(try m.mappedAddress() == expected)
            #expect(text(m.value(.software)) == "test vector")
            #expect(m.checkIntegrity(shortTerm) == .ok)
            #expect(m.checkFingerprint() == .ok)
        }
        let built = try build(.bindingSuccess, transactionID(Vectors.rfc5769TransactionID), padding: 0x20) { b throws(BuildError) in
            try Vectors.buildSampleResponse(&b, mapped: expected, key: shortTerm)
        }
        #expect(built == vector)
    }

    @Test func longTermRequest() throws {
        let key = IntegrityKey.longTerm(username: Vectors.rfc5769LongTermUsername, realm: Vectors.rfc5769LongTermRealm,
                                        password: Vectors.rfc5769LongTermPassword)
        #expect(longTermKeyBytes(username: Vectors.rfc5769LongTermUsername, realm: Vectors.rfc5769LongTermRealm,
                                 password: Vectors.rfc5769LongTermPassword, algorithm: .md5) == Vectors.rfc5769LongTermKey)
        try withParsed(Vectors.rfc5769LongTermRequest) { m throws in
            #expect(text(try m.username()) == Vectors.rfc5769LongTermUsername)
            #expect(text(m.value(.nonce)) == Vectors.rfc5769LongTermNonce)
            #expect(text(m.value(.realm)) == Vectors.rfc5769LongTermRealm)
            #expect(m.checkIntegrity(key) == .ok)
            #expect(m.checkFingerprint() == .absent)
        }
        let built = try build(.bindingRequest, transactionID(Vectors.rfc5769LongTermTransactionID)) { b throws(BuildError) in
            try b.append(.username, text: Vectors.rfc5769LongTermUsername)
            try b.append(.nonce, text: Vectors.rfc5769LongTermNonce)
            try b.append(.realm, text: Vectors.rfc5769LongTermRealm)
            try b.appendMessageIntegrity(key)
        }
        #expect(built == Vectors.rfc5769LongTermRequest)
    }

    /// RFC 8489 Appendix B.1 as corrected by RFC Editor erratum 6268 (the published bytes
    /// have a header length that counts the header, lack PASSWORD-ALGORITHM although the key
    /// is SHA-256, and carry an HMAC over those wrong bytes). The corrected bytes were computed
    /// independently with Python's hashlib/hmac; see Vectors.swift.
    @Test func rfc8489SHA256AndUserhash() throws {
        let u = Vectors.rfc8489B1Username, r = Vectors.rfc8489B1Realm, p = Vectors.rfc8489B1Password
        let key = IntegrityKey.longTerm(username: u, realm: r, password: p, algorithm: .sha256)
        #expect(longTermKeyBytes(username: u, realm: r, password: p, algorithm: .sha256) == Vectors.rfc8489B1Key)
        let hash = userhash(username: u, realm: r)
        #expect(hash.span.withUnsafeBytes { Array($0) } == Vectors.rfc8489B1Userhash)

        try withParsed(Vectors.rfc8489B1Corrected) { m throws in
            #expect(m.value(.userhash).map { Array($0) } == Vectors.rfc8489B1Userhash)
            #expect(text(m.value(.nonce)) == Vectors.rfc8489B1Nonce)
            #expect(m.value(.passwordAlgorithm).map { $0.loadBigEndianUInt16(at: 0) } == PasswordAlgorithm.sha256.rawValue)
            #expect(m.checkIntegritySHA256(key) == .ok)
            #expect(m.checkIntegrity(key) == .absent)
            // The MD5 key of the same credentials must not verify.
            #expect(m.checkIntegritySHA256(.longTerm(username: u, realm: r, password: p)) == .bad)
        }
        let built = try build(.bindingRequest, transactionID(Vectors.rfc8489B1TransactionID)) { b throws(BuildError) in
            try b.append(.userhash, array: hash.span.withUnsafeBytes { Array($0) })
            try b.append(.nonce, text: Vectors.rfc8489B1Nonce)
            try b.append(.realm, text: Vectors.rfc8489B1Realm)
            try b.appendPasswordAlgorithm(.sha256)
            try b.appendMessageIntegritySHA256(key)
        }
        #expect(built == Vectors.rfc8489B1Corrected)

        // The bytes as published: their length field overstates the message.
        #expect(parseError(Vectors.rfc8489B1Published) == .lengthBeyondData)
    }
}
