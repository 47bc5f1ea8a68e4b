import Common
import STUN
import Testing

@Suite struct BindingResponderTests {
    let server = TransportAddress("192.0.2.10:3478")!
    let alternate = TransportAddress("192.0.2.11:3479")!
    let client = TransportAddress("203.0.113.5:40000")!
    let id = TransactionID(high: 7, low: 42)

    func respond(_ request: [UInt8], responder: BindingResponder, on local: TransportAddress? = nil) throws
        -> (BindingResponder.Response, [UInt8])?
    {
        var out = [UInt8](repeating: 0, count: 1500)
        let r = try withParsed(request) { m throws in
            out.withUnsafeMutableBytes { responder.respond(to: m, from: client, on: local ?? server, into: $0) }
        }
        return r.map { ($0, Array(out[0..<$0.count])) }
    }

    @Test func answersBindingWithXORMappedAddress() throws {
        let request = try build(.bindingRequest, id) { b throws(BuildError) in try b.appendFingerprint() }
        let (r, bytes) = try #require(try respond(request, responder: BindingResponder(primary: server)))
        #expect(r.to == client && r.from == server)
        try withParsed(bytes) { m throws in
            #expect(m.type == .bindingSuccess && m.transactionID == id)
            #expect(try m.mappedAddress() == client)
            #expect(m.checkFingerprint() == .ok)
            #expect(text(m.value(.software)) == "ice-agent")
            #expect(!m.contains(.otherAddress))
        }
    }

    @Test func classicRequestGetsMappedAddressOnly() throws {
        var request = rawMessage(body: [])
        request[4] = 0x11  // no magic cookie: RFC 3489
        let (_, bytes) = try #require(try respond(request, responder: BindingResponder(primary: server)))
        try withParsed(bytes) { m throws in
            #expect(m.isClassic)
            #expect(Array(m.bytes[4..<20]) == Array(request[4..<20]))  // 128-bit id echoed
            #expect(try m.address(.mappedAddress) == client)
            #expect(!m.contains(.xorMappedAddress) && !m.contains(.fingerprint))
        }
    }

    @Test func unknownComprehensionRequiredGets420() throws {
        let request = rawMessage(body: tlv(0x7F33, [1, 2, 3, 4]))
        let (_, bytes) = try #require(try respond(request, responder: BindingResponder(primary: server)))
        try withParsed(bytes) { m throws in
            #expect(m.type == .bindingError)
            #expect((try m.errorCode())?.code == 420)
            #expect(m.value(.unknownAttributes).map(Array.init) == [0x7F, 0x33])
        }
    }

    @Test func otherMethodsGet400AndNonRequestsNothing() throws {
        let allocate = rawMessage(type: 0x0003, body: [])
        let (_, bytes) = try #require(try respond(allocate, responder: BindingResponder(primary: server)))
        try withParsed(bytes) { m throws in #expect((try m.errorCode())?.code == 400) }
        #expect(try respond(rawMessage(type: 0x0011, body: []), responder: BindingResponder(primary: server)) == nil)
        #expect(try respond(rawMessage(type: 0x0101, body: []), responder: BindingResponder(primary: server)) == nil)
    }

    @Test func badFingerprintIsDropped() throws {
        var request = try build(.bindingRequest, id) { b throws(BuildError) in try b.appendFingerprint() }
        request[request.count - 1] ^= 0xFF
        #expect(try respond(request, responder: BindingResponder(primary: server)) == nil)
    }

    @Test func rfc5780OtherAddressAndChangeRequest() throws {
        let responder = BindingResponder(primary: server, alternate: alternate)
        let plain = try build(.bindingRequest, id) { _ throws(BuildError) in }
        let (r0, b0) = try #require(try respond(plain, responder: responder))
        #expect(r0.from == server)
        try withParsed(b0) { m throws in
            #expect(try m.address(.responseOrigin) == server)
            #expect(try m.address(.otherAddress) == alternate)
        }
        let cases: [(UInt32, TransportAddress)] = [
            (BindingResponder.changeIP, TransportAddress(alternate.ip, server.port)),
            (BindingResponder.changePort, TransportAddress(server.ip, alternate.port)),
            (BindingResponder.changeIP | BindingResponder.changePort, alternate),
        ]
        for (flags, expectedFrom) in cases {
            let request = try build(.bindingRequest, id) { b throws(BuildError) in try b.append(.changeRequest, uint32: flags) }
            let (r, bytes) = try #require(try respond(request, responder: responder))
            #expect(r.from == expectedFrom)
            try withParsed(bytes) { m throws in #expect(try m.address(.responseOrigin) == expectedFrom) }
        }
        // Without an alternate address CHANGE-REQUEST cannot be honoured (RFC 5780 §6.1).
        let change = try build(.bindingRequest, id) { b throws(BuildError) in try b.append(.changeRequest, uint32: 4) }
        let (_, e) = try #require(try respond(change, responder: BindingResponder(primary: server)))
        try withParsed(e) { m throws in #expect((try m.errorCode())?.code == 420) }
    }

    @Test func responsePortRedirects() throws {
        let request = try build(.bindingRequest, id) { b throws(BuildError) in try b.append(.responsePort, uint16: 5555) }
        let (r, _) = try #require(try respond(request, responder: BindingResponder(primary: server)))
        #expect(r.to == TransportAddress(client.ip, 5555))
    }
}

extension BindingResponder.Response: CustomStringConvertible {
    public var description: String { "\(count) bytes \(from) -> \(to)" }
}
