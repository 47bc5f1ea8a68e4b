import Common

/// Which side of the handshake this endpoint plays. RFC 5763 §5: the offerer's and
/// answerer's `a=setup` decide it (active = client, passive = server).
public enum DTLSRole: Sendable, Equatable {
    case client
    case server
}

/// Where a `DTLSEndpoint` stands.
public enum DTLSState: Sendable, Equatable {
    /// Made, not started (a server also starts at its first datagram).
    case new
    case handshaking
    /// Keyed: the SRTP keying material was delivered.
    case connected
    case failed(DTLSError)
    /// Closed by either side's close_notify (RFC 5246 §7.2.1).
    case closed
}

/// What an endpoint reports to its owner.
public enum DTLSEvent: Sendable, Equatable {
    /// The handshake completed with a peer whose certificate matched the fingerprint.
    case connected(DTLSKeyingMaterial)
    case failed(DTLSError)
    /// The peer sent close_notify.
    case closed
}

/// The SRTP keys a DTLS-SRTP handshake exports (RFC 5764 §4.2).
public struct DTLSKeyingMaterial: Sendable, Equatable {
    /// The profile the use_srtp extension negotiated (RFC 5764 §4.1.1).
    public let profile: SRTPProfile
    /// `profile.keyingMaterialLength` bytes of the "EXTRACTOR-dtls_srtp" exporter (RFC 5705
    /// §4): client write key, server write key, client salt, server salt.
    public let bytes: [UInt8]
    /// Whether this endpoint was the DTLS client: its outbound SRTP uses the client's key and
    /// salt (RFC 5764 §4.2).
    public let localIsClient: Bool

    public init(profile: SRTPProfile, bytes: [UInt8], localIsClient: Bool) {
        self.profile = profile
        self.bytes = bytes
        self.localIsClient = localIsClient
    }

    /// The master key and salt this endpoint protects with (RFC 5764 §4.2).
    public var localKey: ArraySlice<UInt8> { localIsClient ? clientKey : serverKey }
    public var localSalt: ArraySlice<UInt8> { localIsClient ? clientSalt : serverSalt }
    /// The master key and salt the peer protects with.
    public var remoteKey: ArraySlice<UInt8> { localIsClient ? serverKey : clientKey }
    public var remoteSalt: ArraySlice<UInt8> { localIsClient ? serverSalt : clientSalt }

    var clientKey: ArraySlice<UInt8> { bytes[0..<profile.keyLength] }
    var serverKey: ArraySlice<UInt8> { bytes[profile.keyLength..<(2 * profile.keyLength)] }
    var clientSalt: ArraySlice<UInt8> {
        let start = 2 * profile.keyLength
        return bytes[start..<(start + profile.saltLength)]
    }
    var serverSalt: ArraySlice<UInt8> {
        let start = 2 * profile.keyLength + profile.saltLength
        return bytes[start..<(start + profile.saltLength)]
    }
}
