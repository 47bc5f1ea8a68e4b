import Common
import STUN
import TURN

/// Test randomness: SplitMix64 from Common.
typealias Client = TURNClient<SeededRandom>

let serverAddress = TransportAddress(.v4(0xC000_0201), 3478)  // 192.0.2.1:3478
let alternateAddress = TransportAddress(.v4(0xC000_0202), 3478)
let relayedAddress = TransportAddress(.v4(0xC633_6401), 49152)  // 198.51.100.1
let mappedAddress = TransportAddress(.v4(0xCB00_7101), 40000)  // 203.0.113.1
let peerA = TransportAddress(.v4(0xCB00_7164), 5000)  // 203.0.113.100
let peerB = TransportAddress(.v4(0xCB00_7165), 6000)

func at(_ seconds: Double) -> Instant { Instant(nanoseconds: Int64(seconds * 1e9)) }

/// A request the client sent, copied out of its transmit ring and decoded.
struct Request {
    let bytes: [UInt8]
    let destination: TransportAddress
    var type = MessageType(rawValue: 0)
    var id = TransactionID(high: 0, low: 0)
    var username: String? = nil
    var realm: String? = nil
    var nonce: String? = nil
    var lifetime: UInt32? = nil
    var channel: UInt16? = nil
    var peer: TransportAddress? = nil
    var data: [UInt8]? = nil
    var requestedTransport: UInt8? = nil
    var requestedFamily: UInt8? = nil
    var passwordAlgorithm: UInt16? = nil
    var passwordAlgorithms: [UInt8]? = nil
    var hasIntegrity = false
    var hasIntegritySHA256 = false
    var fingerprintOK = false
    var isChannelData: Bool { bytes.withUnsafeBytes { ChannelData.looksLikeChannelData($0) } }

    init(_ bytes: [UInt8], to destination: TransportAddress) {
        self.bytes = bytes
        self.destination = destination
        if isChannelData { return }
        bytes.withUnsafeBytes { raw in
            let m = try! Message(parsing: raw)
            type = m.type
            id = m.transactionID
            func text(_ t: AttributeType) -> String? { m.value(t).map { String(decoding: $0, as: UTF8.self) } }
            username = text(.username)
            realm = text(.realm)
            nonce = text(.nonce)
            lifetime = try! m.uint32(.lifetime)
            channel = m.value(.channelNumber).map { try! decodeUInt16($0) }
            peer = try! m.xorAddress(.xorPeerAddress)
            data = m.value(.data).map { Array($0) }
            requestedTransport = m.value(.requestedTransport).map { try! decodeUInt8($0) }
            requestedFamily = m.value(.requestedAddressFamily).map { try! decodeUInt8($0) }
            passwordAlgorithm = m.value(.passwordAlgorithm).map { $0.loadBigEndianUInt16(at: 0) }
            passwordAlgorithms = m.value(.passwordAlgorithms).map { Array($0) }
            hasIntegrity = m.integrityOffset != nil
            hasIntegritySHA256 = m.integritySHA256Offset != nil
            fingerprintOK = m.checkFingerprint() == .ok
        }
    }

    var method: Method { type.method }
    var messageClass: MessageClass { type.messageClass }

    /// MESSAGE-INTEGRITY(-SHA256) checked with `key`.
    func integrity(_ key: IntegrityKey) -> CheckResult {
        bytes.withUnsafeBytes { raw in
            let m = try! Message(parsing: raw)
            return m.integritySHA256Offset != nil ? m.checkIntegritySHA256(key) : m.checkIntegrity(key)
        }
    }
}

/// Everything the client wants to send right now.
func drain(_ c: Client) -> [Request] {
    var out: [Request] = []
    while let t = c.pollTransmit() { out.append(Request(Array(t.bytes), to: t.destination)) }
    return out
}

func drainEvents(_ c: Client) -> [TURNEvent] {
    var out: [TURNEvent] = []
    while let e = c.pollEvent() { out.append(e) }
    return out
}

/// Builds responses and indications the way a TURN server would: scripted per test.
struct FakeServer {
    var address = serverAddress
    var realm = "example.org"
    var nonce = "nonce-1"
    let username = "alice"
    let password = "secret"
    var algorithm = PasswordAlgorithm.md5
    var key: IntegrityKey { IntegrityKey.longTerm(username: username, realm: realm, password: password, algorithm: algorithm) }

    /// A response to `request` (same method and id), signed with `sign` (nil: unsigned).
    func respond(to request: Request, _ cls: MessageClass, sign: IntegrityKey?, sha256: Bool = false,
                 _ attributes: (inout MessageBuilder) throws -> Void = { _ in }) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1500)
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            var b = try! MessageBuilder(into: raw, type: MessageType(request.method, cls), transactionID: request.id)
            try! attributes(&b)
            if let sign {
                if sha256 { try! b.appendMessageIntegritySHA256(sign) } else { try! b.appendMessageIntegrity(sign) }
            }
            try! b.appendFingerprint()
            return b.count
        }
        return Array(buffer[0..<n])
    }

    func challenge(_ request: Request, code: Int = 401, algorithms: [PasswordAlgorithm]? = nil) -> [UInt8] {
        respond(to: request, .errorResponse, sign: nil) { b in
            try b.appendErrorCode(code)
            try b.append(.realm, text: realm)
            try b.append(.nonce, text: nonce)
            if let algorithms { try b.appendPasswordAlgorithms(algorithms) }
        }
    }

    func error(_ request: Request, _ code: Int, signed: Bool = true) -> [UInt8] {
        respond(to: request, .errorResponse, sign: signed ? key : nil) { b in try b.appendErrorCode(code) }
    }

    func allocateSuccess(_ request: Request, lifetime: UInt32 = 600, sign: IntegrityKey? = nil) -> [UInt8] {
        respond(to: request, .successResponse, sign: sign ?? key, sha256: algorithm == .sha256) { b in
            try b.append(.xorRelayedAddress, xorAddress: relayedAddress)
            try b.append(.xorMappedAddress, xorAddress: mappedAddress)
            try b.append(.lifetime, uint32: lifetime)
        }
    }

    func success(_ request: Request, lifetime: UInt32? = nil) -> [UInt8] {
        respond(to: request, .successResponse, sign: key, sha256: algorithm == .sha256) { b in
            if let lifetime { try b.append(.lifetime, uint32: lifetime) }
        }
    }

    func dataIndication(from peer: TransportAddress, _ payload: [UInt8]) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1500)
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            var b = try! MessageBuilder(into: raw, type: MessageType(.data, .indication),
                                        transactionID: TransactionID(high: 7, low: 7))
            try! b.append(.xorPeerAddress, xorAddress: peer)
            payload.withUnsafeBytes { try! b.append(.data, bytes: $0) }
            return b.count
        }
        return Array(buffer[0..<n])
    }
}

extension Client {
    @discardableResult
    func receive(_ bytes: [UInt8], from source: TransportAddress = serverAddress, now: Instant) -> TURNInput {
        bytes.withUnsafeBytes { handle(packet: $0, from: source, now: now) }
    }
}

func makeClient(_ configure: (inout TURNConfiguration) -> Void = { _ in }, seed: UInt64 = 1) -> Client {
    var config = TURNConfiguration()
    configure(&config)
    return Client(server: serverAddress, username: "alice", password: "secret", configuration: config,
                  random: SeededRandom(seed: seed))
}

/// Runs start → 401 → Allocate with credentials → success; returns the client and the server.
func allocated(lifetime: UInt32 = 600, _ configure: (inout TURNConfiguration) -> Void = { _ in }) -> (Client, FakeServer) {
    let c = makeClient(configure)
    let s = FakeServer()
    try! c.start(now: at(0))
    let first = drain(c)[0]
    c.receive(s.challenge(first), now: at(0.01))
    let second = drain(c)[0]
    c.receive(s.allocateSuccess(second, lifetime: lifetime), now: at(0.02))
    _ = drainEvents(c)
    precondition(c.state == .allocated)
    return (c, s)
}

/// Installs a permission for `peer` (CreatePermission → success).
func permit(_ c: Client, _ s: FakeServer, _ peer: TransportAddress, now: Instant) {
    try! c.createPermission(peer: peer, now: now)
    let r = drain(c).last!
    c.receive(s.success(r), now: now)
    _ = drainEvents(c)
}

func isData(_ input: TURNInput) -> (TransportAddress, [UInt8])? {
    if case .data(let from, let bytes) = input { return (from, Array(bytes)) }
    return nil
}

func dropReason(_ input: TURNInput) -> TURNDrop? {
    if case .dropped(let r) = input { return r }
    return nil
}

/// `send` as a Result (typed-throws closures through withUnsafeBytes crash Swift 6.3's IRGen).
func trySend(_ c: Client, _ payload: [UInt8], to peer: TransportAddress, now: Instant) -> TURNError? {
    payload.withUnsafeBytes { raw -> TURNError? in
        do throws(TURNError) {
            try c.send(raw, to: peer, now: now)
            return nil
        } catch { return error }
    }
}

/// `append` as a Result, for the same reason.
func feed(_ r: StreamReassembler, _ bytes: [UInt8]) -> StreamFramingError? {
    bytes.withUnsafeBytes { raw -> StreamFramingError? in
        do throws(StreamFramingError) {
            try r.append(raw)
            return nil
        } catch { return error }
    }
}
