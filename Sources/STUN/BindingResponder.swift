import Common

/// A STUN Binding server as a pure function of the request (RFC 8489 §6.3, RFC 5780 §6):
/// it decides what to answer, from which local address and to where; the caller owns sockets.
public struct BindingResponder: Sendable {
    /// The server's addresses. With an alternate (RFC 5780), the server listens on the four
    /// combinations of {primary, alternate} IP and port and honours CHANGE-REQUEST.
    public var primary: TransportAddress
    public var alternate: TransportAddress?
    public var software: StaticString

    public init(primary: TransportAddress, alternate: TransportAddress? = nil, software: StaticString = "ice-agent") {
        self.primary = primary
        self.alternate = alternate
        self.software = software
    }

    /// What to send: `count` bytes of the buffer, from local address `from`, to `to`.
    public struct Response: Equatable, Sendable {
        public var count: Int
        public var from: TransportAddress
        public var to: TransportAddress
    }

    /// RFC 5780 §7.2 CHANGE-REQUEST flags.
    public static let changeIP: UInt32 = 0x4
    public static let changePort: UInt32 = 0x2

    /// Answers `request` (already parsed) that arrived from `source` on local address `local`.
    /// Nil means "send nothing" (indications, responses, bad fingerprints).
    public func respond(to request: Message, from source: TransportAddress, on local: TransportAddress,
                        into buffer: UnsafeMutableRawBufferPointer) -> Response? {
        guard request.messageClass == .request else { return nil }
        // RFC 8489 §7.3: a FINGERPRINT that does not match means this is not STUN for us.
        if request.checkFingerprint() == .bad { return nil }
        do throws(BuildError) {
            if !request.unknownComprehensionRequired.isEmpty {
                return try error(420, request, source, local, buffer, unknown: request.unknownComprehensionRequired)
            }
            guard request.method == .binding else { return try error(400, request, source, local, buffer) }

            var from = local
            if let flags = try? request.uint32(.changeRequest), flags & (Self.changeIP | Self.changePort) != 0 {
                // RFC 5780 §6.1: without an alternate address CHANGE-REQUEST cannot be honoured.
                guard let alternate else {
                    var unknown = UnknownAttributes()
                    unknown.append(.changeRequest)
                    return try error(420, request, source, local, buffer, unknown: unknown)
                }
                if flags & Self.changeIP != 0 { from.ip = local.ip == primary.ip ? alternate.ip : primary.ip }
                if flags & Self.changePort != 0 { from.port = local.port == primary.port ? alternate.port : primary.port }
            }
            var to = source
            if let port = request.value(.responsePort).flatMap({ try? decodeUInt16($0) }) { to.port = port }

            var b = try MessageBuilder(into: buffer, type: MessageType(.binding, .successResponse),
                                       transactionID: request.transactionID, cookieField: request.cookieField)
            if request.isClassic {
                // RFC 3489 clients know only MAPPED-ADDRESS and have no FINGERPRINT.
                try b.append(.mappedAddress, address: source)
                try b.append(.software, text: software)
                return Response(count: b.count, from: from, to: to)
            }
            try b.append(.xorMappedAddress, xorAddress: source)
            if let alternate {
                try b.append(.responseOrigin, address: from)
                let other = TransportAddress(from.ip == primary.ip ? alternate.ip : primary.ip,
                                             from.port == primary.port ? alternate.port : primary.port)
                try b.append(.otherAddress, address: other)
            }
            try b.append(.software, text: software)
            try b.appendFingerprint()
            return Response(count: b.count, from: from, to: to)
        } catch {
            return nil  // Only a buffer smaller than any answer gets here; nothing useful to send.
        }
    }

    private func error(_ code: Int, _ request: Message, _ source: TransportAddress, _ local: TransportAddress,
                       _ buffer: UnsafeMutableRawBufferPointer, unknown: UnknownAttributes? = nil) throws(BuildError) -> Response {
        var b = try MessageBuilder(into: buffer, type: MessageType(request.method, .errorResponse),
                                   transactionID: request.transactionID, cookieField: request.cookieField)
        try b.appendErrorCode(code)
        if let unknown { try b.appendUnknownAttributes(unknown) }
        try b.append(.software, text: software)
        if !request.isClassic { try b.appendFingerprint() }
        return Response(count: b.count, from: local, to: source)
    }
}
