// libFuzzer target over the STUN codec: parsing, attribute decoding, integrity and fingerprint
// checks, and the Binding responder. Built and run by `fuzz/run`; see fuzz/README.md.
//
// Every input is used twice:
//   1. as a datagram: the bytes go to `Message(parsing:)` as they are;
//   2. as `ice-agent stun decode` input: if the bytes are hex text (`decodeHex` accepts them),
//      the decoded bytes take the same path. Binary inputs fail `decodeHex` at once, so this
//      costs nothing for them and lets hex seeds reach the parser through the CLI's decoder.
//
// A parsed message whose FINGERPRINT is wrong is also tried again with the CRC fixed, since
// mutations rarely keep it right and the responder ignores such requests.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - re-parsing `m.bytes` succeeds and gives the same attribute count and integrity/fingerprint
//     offsets (the trailing bytes beyond the header's length are not part of the message);
//   - an attribute value lies inside the message; a decoded ERROR-CODE is 300..699;
//   - a decoded address prints ("ip:port", as the CLI shows it) to text that parses back to it;
//   - whatever BindingResponder writes parses, has the request's transaction id and cookie
//     field, a response class, a FINGERPRINT that checks `.ok` (classic RFC 3489 requests:
//     no FINGERPRINT at all), and in a success response a mapped address equal to the source.
// Nothing is printed.

import Common
import Crypto
import STUN

/// The short-term key every message is checked against, prepared once.
let fuzzKey = IntegrityKey.shortTerm(password: "fuzz")

/// Server addresses for the responder: one without an alternate (CHANGE-REQUEST gets a 420),
/// one with an RFC 5780 alternate address so CHANGE-REQUEST and OTHER-ADDRESS are exercised.
let primary = TransportAddress(.v4(0xC633_6401), 3478)  // 198.51.100.1:3478
let alternate = TransportAddress(.v4(0xC633_6402), 3479)  // 198.51.100.2:3479
let plainResponder = BindingResponder(primary: primary)
let natResponder = BindingResponder(primary: primary, alternate: alternate)
let sourceV4 = TransportAddress(.v4(0xC000_0201), 54321)  // 192.0.2.1:54321
let sourceV6 = TransportAddress(.v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0001), 61000)  // [2001:db8::1]:61000

/// The response buffer: one MTU, allocated once (the agent's send buffer is the same size).
nonisolated(unsafe) let responseBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    exercise(input)
    // The `stun decode` path: hex text in, the same checks on the decoded bytes.
    if size >= 40, let decoded = decodeHex(input) {
        decoded.withUnsafeBytes { exercise($0) }
    }
    return 0
}

func exercise(_ input: UnsafeRawBufferPointer, refingerprinted: Bool = false) {
    let m: Message
    do throws(ParseError) {
        m = try Message(parsing: input)
    } catch {
        sink(error.name)
        return
    }

    // Round trip: the message's own bytes parse to the same index.
    do throws(ParseError) {
        let again = try Message(parsing: m.bytes)
        require(again.attributes.count == m.attributes.count, "re-parse changed the attribute count")
        require(again.bytes.count == m.bytes.count, "re-parse changed the length")
        require(again.integrityOffset == m.integrityOffset
                     && again.integritySHA256Offset == m.integritySHA256Offset
                     && again.fingerprintOffset == m.fingerprintOffset, "re-parse changed the offsets")
        require(again.type == m.type && again.transactionID == m.transactionID, "re-parse changed the header")
    } catch {
        fail("a parsed message's own bytes do not parse")
    }

    sink(m.messageClass.name)
    sink(m.method.name)
    sink(m.isClassic)
    sink(m.length)
    sink(m.unknownComprehensionRequired.count)
    for i in 0..<m.unknownComprehensionRequired.count { sink(m.unknownComprehensionRequired[i]) }

    // Every indexed attribute, decoded by kind as `ice-agent stun decode` renders it.
    for i in 0..<m.attributes.count {
        let e = m.attributes[i]
        let v = m.value(of: e)
        require(Int(e.offset) + Int(e.length) <= m.bytes.count, "attribute value beyond the message")
        require(v.count == Int(e.length), "value size differs from the indexed length")
        sink(m.contains(e.type))
        if let first = m.value(e.type) { sink(first.count) }
        decodeAttribute(m, e.type, v)
    }

    // The typed accessors.
    do throws(AttributeError) {
        if let a = try m.mappedAddress() { checkAddressText(a) }
    } catch { sink(error.name) }
    do throws(AttributeError) {
        if let c = try m.errorCode() {
            require(c.code >= 300 && c.code <= 699, "ERROR-CODE out of range")
            sink(String(decoding: c.reason, as: UTF8.self))
        }
    } catch { sink(error.name) }
    do throws(AttributeError) { sink(try m.priority()) } catch { sink(error.name) }
    do throws(AttributeError) { sink(try m.uint64(.iceControlling)) } catch { sink(error.name) }
    do throws(AttributeError) { sink(try m.username()?.count) } catch { sink(error.name) }
    do throws(AttributeError) { sink(try m.xorAddress(.xorPeerAddress)) } catch { sink(error.name) }
    do throws(AttributeError) { sink(try m.address(.otherAddress)) } catch { sink(error.name) }

    // Integrity and fingerprint.
    sink(m.checkIntegrity(fuzzKey).name)
    sink(m.checkIntegritySHA256(fuzzKey).name)
    sink(m.checkFingerprint().name)

    // The Binding server, as `ice-agent stun server` runs it.
    respond(plainResponder, m, source: sourceV4, local: primary)
    respond(natResponder, m, source: sourceV6, local: alternate)

    // A mutated message almost never keeps a valid FINGERPRINT, and the responder drops those
    // unanswered. Fix the CRC in a copy and go again, so the fuzzer explores what lies beyond.
    if !refingerprinted, let at = m.fingerprintOffset, m.checkFingerprint() == .bad {
        var copy = Array(m.bytes)
        copy.withUnsafeMutableBytes { b in
            let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[0..<at])) ^ fingerprintXOR
            b.storeBigEndian(crc, at: at + 4)
        }
        copy.withUnsafeBytes { b in
            do throws(ParseError) {
                require(try Message(parsing: b).checkFingerprint() == .ok, "a fixed FINGERPRINT does not check")
            } catch {
                fail("a message with a fixed FINGERPRINT does not parse")
            }
            exercise(b, refingerprinted: true)
        }
    }
}

func decodeAttribute(_ m: Message, _ type: AttributeType, _ v: UnsafeRawBufferPointer) {
    guard let info = type.info else {
        sink(hexString(v))
        return
    }
    sink(info.name)
    do throws(AttributeError) {
        switch info.kind {
        case .address:
            checkAddressText(try decodeAddress(v))
        case .xorAddress:
            checkAddressText(try decodeXORAddress(v, transactionID: m.transactionID))
        case .text:
            sink(String(decoding: v, as: UTF8.self))
        case .uint32:
            sink(try decodeUInt32(v))
        case .uint64:
            sink(try decodeUInt64(v))
        case .uint16:
            sink(try decodeUInt16(v))
        case .protocolNumber, .family:
            sink(try decodeUInt8(v))
        case .errorCode:
            let code = try ErrorCode(v)
            require(code.code >= 300 && code.code <= 699, "ERROR-CODE out of range")
            sink(String(decoding: code.reason, as: UTF8.self))
        case .addressErrorCode:
            guard v.count >= 4 else { throw .wrongLength }
            let code = try ErrorCode(v)
            sink(String(decoding: code.reason, as: UTF8.self))
        case .flag:
            guard v.isEmpty else { throw .wrongLength }
        case .opaque:
            sink(hexString(v))
        }
    } catch {
        sink(error.name)
    }
}

/// The CLI prints addresses with `description`; that text must parse back to the address.
func checkAddressText(_ a: TransportAddress) {
    let text = a.description
    require(TransportAddress(text) == a, "address text does not round-trip")
}

func respond(_ responder: BindingResponder, _ request: Message, source: TransportAddress, local: TransportAddress) {
    guard let r = responder.respond(to: request, from: source, on: local, into: responseBuffer) else { return }
    require(r.count >= Message.headerSize && r.count <= responseBuffer.count, "response size out of range")
    let out = UnsafeRawBufferPointer(rebasing: responseBuffer[0..<r.count])
    let response: Message
    do throws(ParseError) {
        response = try Message(parsing: out)
    } catch {
        fail("our own response does not parse")
    }
    require(response.bytes.count == r.count, "response length field disagrees with its size")
    require(response.transactionID == request.transactionID
                 && response.cookieField == request.cookieField, "response does not echo the transaction")
    require(response.method == request.method, "response method differs from the request's")
    require(response.messageClass == .successResponse || response.messageClass == .errorResponse,
                 "response class is not a response")
    require(response.unknownComprehensionRequired.isEmpty, "our response carries unknown attributes")
    if request.isClassic {
        require(response.checkFingerprint() == .absent, "classic response carries FINGERPRINT")
    } else {
        require(response.checkFingerprint() == .ok, "our response's FINGERPRINT does not check")
    }
    if response.messageClass == .successResponse {
        do throws(AttributeError) {
            let mapped = try response.mappedAddress()
            require(mapped == source, "mapped address is not the source")
        } catch {
            fail("our response's mapped address does not decode")
        }
    } else {
        do throws(AttributeError) {
            let code = try response.errorCode()
            require(code != nil, "error response without ERROR-CODE")
        } catch {
            fail("our response's ERROR-CODE does not decode")
        }
    }
}
