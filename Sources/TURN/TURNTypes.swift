import Common
import STUN

/// How the client reaches its TURN server (RFC 8656 §3.1). The relay itself is always UDP
/// (REQUESTED-TRANSPORT 17); the transport decides retransmission (none on streams, RFC 8489
/// §6.2.2), ChannelData padding (RFC 8656 §12.5) and keepalives (UDP only,
/// `TURNTiming.keepaliveInterval`). The type lives in Common so that ICE can key relayed
/// candidate foundations on it (RFC 8445 §5.1.1.3) without depending on TURN.
public typealias TURNTransport = ServerTransport

/// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.8): the family of the relayed address asked for.
public enum TURNAddressFamily: UInt8, Sendable {
    case ipv4 = 0x01
    case ipv6 = 0x02
}

/// The fixed tables of a client; a full one is a typed error (and counted), never growth.
public enum TURNTable: UInt8, Sendable {
    case permissions, channels, transactions, transmitQueue, events

    public var name: StaticString {
        switch self {
        case .permissions: return "permissions"
        case .channels: return "channels"
        case .transactions: return "transactions"
        case .transmitQueue: return "transmit-queue"
        case .events: return "events"
        }
    }
}

/// Why a call on the client was refused.
public enum TURNError: Error, Equatable, Sendable {
    case tableFull(TURNTable)
    /// The operation needs an allocation (after `.allocated`, before close).
    case notAllocated
    /// `start` was called twice, or after close.
    case alreadyStarted
    /// No permission (pending or installed) for the peer's IP: the server would drop it.
    case noPermission
    /// The peer's family differs from the relayed address's (RFC 8656 §9.1: 443).
    case peerAddressFamilyMismatch
    /// Payload does not fit one transmit slot.
    case payloadTooLarge
    /// All 4096 channel numbers are taken.
    case noChannelNumber

    public var name: StaticString {
        switch self {
        case .tableFull: return "table-full"
        case .notAllocated: return "not-allocated"
        case .alreadyStarted: return "already-started"
        case .noPermission: return "no-permission"
        case .peerAddressFamilyMismatch: return "peer-address-family-mismatch"
        case .payloadTooLarge: return "payload-too-large"
        case .noChannelNumber: return "no-channel-number"
        }
    }
}

/// Why an allocation, permission or channel binding failed (carried by events).
public enum TURNFailure: Equatable, Sendable {
    /// 441 (Wrong Credentials), or a 401 to a request that carried our credentials.
    case wrongCredentials
    /// 437 (Allocation Mismatch): pick another local port (RFC 8656 §7.4), or the allocation is gone.
    case allocationMismatch
    /// 486 (Allocation Quota Reached).
    case quotaReached
    /// 508 (Insufficient Capacity).
    case insufficientCapacity
    /// 403 (Forbidden).
    case forbidden
    /// 440 (Address Family not Supported).
    case addressFamilyNotSupported
    /// 442 (Unsupported Transport Protocol).
    case unsupportedTransport
    /// 443 (Peer Address Family Mismatch).
    case peerAddressFamilyMismatch
    /// A second 300 (Try Alternate), or one without ALTERNATE-SERVER.
    case tooManyRedirects
    /// The server kept answering 438 (Stale Nonce) to fresh nonces.
    case staleNonceLoop
    /// PASSWORD-ALGORITHMS offered neither MD5 nor SHA-256.
    case unsupportedPasswordAlgorithm
    /// The server's REALM is not the one configured.
    case realmMismatch
    /// Any other error response code.
    case errorCode(Int)
    /// RFC 8489 §6.2.1: no response after all retransmissions.
    case timeout
    /// The allocation's lifetime ran out without a successful refresh.
    case expired
    /// An authenticated response lacked what the RFC requires (e.g. XOR-RELAYED-ADDRESS).
    case malformedResponse
    /// The TCP or TLS connection to the server closed or broke: the allocation went with it
    /// (RFC 8656 §3.1).
    case connectionLost

    init(code: Int) {
        switch code {
        case 441: self = .wrongCredentials
        case 437: self = .allocationMismatch
        case 486: self = .quotaReached
        case 508: self = .insufficientCapacity
        case 403: self = .forbidden
        case 440: self = .addressFamilyNotSupported
        case 442: self = .unsupportedTransport
        case 443: self = .peerAddressFamilyMismatch
        default: self = .errorCode(code)
        }
    }

    /// The STUN error code, when the failure came from one.
    public var code: Int? {
        switch self {
        case .wrongCredentials: return 441
        case .allocationMismatch: return 437
        case .quotaReached: return 486
        case .insufficientCapacity: return 508
        case .forbidden: return 403
        case .addressFamilyNotSupported: return 440
        case .unsupportedTransport: return 442
        case .peerAddressFamilyMismatch: return 443
        case .errorCode(let c): return c
        default: return nil
        }
    }

    /// Retried with backoff when it answers an Allocate (RFC 8656 §7.4: try later).
    var isRetryable: Bool {
        switch self {
        case .quotaReached, .insufficientCapacity, .timeout: return true
        case .errorCode(let c): return c == 500
        default: return false
        }
    }

    /// For logs and the CLI.
    public var description: String {
        switch self {
        case .wrongCredentials: return "wrong credentials (401/441)"
        case .allocationMismatch: return "allocation mismatch (437)"
        case .quotaReached: return "allocation quota reached (486)"
        case .insufficientCapacity: return "insufficient capacity (508)"
        case .forbidden: return "forbidden (403)"
        case .addressFamilyNotSupported: return "address family not supported (440)"
        case .unsupportedTransport: return "unsupported transport protocol (442)"
        case .peerAddressFamilyMismatch: return "peer address family mismatch (443)"
        case .tooManyRedirects: return "too many redirects (300)"
        case .staleNonceLoop: return "stale nonce (438) repeated"
        case .unsupportedPasswordAlgorithm: return "no supported password algorithm"
        case .realmMismatch: return "unexpected realm"
        case .errorCode(let c): return "error response \(c)"
        case .timeout: return "no response (timeout)"
        case .expired: return "allocation expired"
        case .malformedResponse: return "malformed response"
        case .connectionLost: return "connection to the server lost"
        }
    }
}

/// What the client tells its owner. Plain values: polling allocates nothing.
public enum TURNEvent: Sendable {
    /// Allocate succeeded (RFC 8656 §7.3). `mapped` is the server-reflexive address.
    case allocated(relayed: TransportAddress, mapped: TransportAddress?, lifetime: Interval)
    /// A Refresh succeeded with this lifetime.
    case refreshed(lifetime: Interval)
    /// A 300 (Try Alternate) moved the client to another server (RFC 8489 §10).
    case redirected(to: TransportAddress)
    /// An Allocate failed in a way worth retrying; the client tries again after `after`.
    case retrying(TURNFailure, after: Interval)
    /// The allocation failed or was lost: final, the client sends nothing more.
    case failed(TURNFailure)
    /// A permission for this peer IP was installed (first success only, not refreshes).
    case permissionCreated(IPAddress)
    case permissionFailed(IPAddress, TURNFailure)
    /// ChannelData can be used for this peer from now on (first success only).
    case channelBound(peer: TransportAddress, channel: UInt16)
    case channelBindFailed(peer: TransportAddress, TURNFailure)
    /// `close` finished: the server confirmed (or could not be reached, or had already
    /// forgotten the allocation).
    case deallocated
    /// A fixed table was full; what did not fit was dropped (and counted).
    case tableFull(TURNTable)
}

/// Why `handle(packet:)` dropped a datagram (each one is also counted).
public enum TURNDrop: UInt8, Sendable {
    /// Not parseable as STUN or ChannelData, or a response missing required attributes.
    case malformed
    /// A response to an authenticated request without valid MESSAGE-INTEGRITY(-SHA256).
    case unauthenticated
    /// A response to no outstanding transaction (late retransmission, forged).
    case unknownTransaction
    /// ChannelData on a channel we never bound.
    case unboundChannel
    /// A Data indication from a peer without a permission (RFC 8656 §11.6).
    case noPermission
    /// A request, or an indication other than Data, or anything after close.
    case unexpected

    public var name: StaticString {
        switch self {
        case .malformed: return "malformed"
        case .unauthenticated: return "unauthenticated"
        case .unknownTransaction: return "unknown-transaction"
        case .unboundChannel: return "unbound-channel"
        case .noPermission: return "no-permission"
        case .unexpected: return "unexpected"
        }
    }
}

/// What `handle(packet:from:now:)` did with a datagram.
public enum TURNInput {
    /// Application data relayed from `peer` (a Data indication or ChannelData). `bytes` is a
    /// view into the caller's packet: valid only as long as the packet is.
    case data(from: TransportAddress, bytes: UnsafeRawBufferPointer)
    /// A response (or other TURN message) the client processed.
    case handled
    /// Dropped and counted.
    case dropped(TURNDrop)
    /// Not from the TURN server: the caller routes it elsewhere (host traffic, ICE).
    case notFromServer
}

/// A datagram (or, on TCP/TLS, bytes for the stream) the client wants sent to `destination`.
/// `bytes` points into the client's transmit ring: valid until the next call on the client.
public struct TURNTransmit {
    public var destination: TransportAddress
    public var transport: TURNTransport
    public var bytes: UnsafeRawBufferPointer
}

/// Counted, never logged per packet.
public struct TURNCounters: Sendable {
    public var malformed = 0
    public var unauthenticated = 0
    public var unknownTransaction = 0
    public var unboundChannel = 0
    public var noPermission = 0
    public var unexpected = 0
    public var requestsSent = 0
    public var retransmits = 0
    public var staleNonceRetries = 0
    public var sendIndicationsSent = 0
    public var channelDataSent = 0
    public var dataIndicationsReceived = 0
    public var channelDataReceived = 0
    public var transmitDropped = 0
    /// Binding indications sent to keep an idle UDP path to the server open.
    public var keepalivesSent = 0
    public var tableFull = 0
    public init() {}
}

/// Table sizes, fixed at creation.
public struct TURNCapacities: Sendable {
    public var permissions = 16
    public var channels = 16
    /// Outstanding requests: allocation, permissions and channels together.
    public var transactions = 40
    public var transmitQueue = 32
    public var events = 64
    /// Bytes per transmit slot: the largest message (request with a long NONCE and REALM, or
    /// Send indication / ChannelData with the largest payload) the client builds.
    public var transmitSlotSize = 2048
    public init() {}
}

public struct TURNConfiguration: Sendable {
    public var transport: TURNTransport = .udp
    /// LIFETIME asked for in Allocate and Refresh (seconds); nil lets the server choose (600 s).
    public var requestedLifetime: UInt32? = nil
    /// Family of the relayed address (REQUESTED-ADDRESS-FAMILY, sent for IPv6 only: absent
    /// means IPv4, RFC 8656 §7.1).
    public var addressFamily: TURNAddressFamily = .ipv4
    /// SOFTWARE (RFC 8489 §14.14) in requests; nil for none.
    public var software: String? = "ice-agent"
    /// When set, a 401 with another REALM fails with `.realmMismatch` instead of computing a key.
    public var expectedRealm: String? = nil
    /// FINGERPRINT on requests (useful when the socket is shared with ICE, RFC 8656 §15).
    public var fingerprint = true
    /// RFC 8489 §6.2.1 initial RTO and Rc (UDP only).
    public var rto: Interval = TURNTiming.rto
    public var maxSends: Int = TURNTiming.maxSends
    /// UDP only: send a Binding indication to the server after this long without sending it
    /// anything while allocated (`TURNTiming.keepaliveInterval`); nil disables it, for a
    /// server known to be reachable without a NAT on the way.
    public var keepaliveInterval: Interval? = TURNTiming.keepaliveInterval
    /// Allocate attempts for a retryable failure (486, 508, 500, timeout), spaced by
    /// `TURNTiming.allocateRetryBackoff` doubling. An owner with a retry policy of its own (a
    /// `Connection`, which starts a fresh client after a backoff) sets 1, so there is one.
    public var allocateAttempts = TURNTiming.maxAllocateAttempts
    public var capacities = TURNCapacities()
    public init() {}
}

/// State of the allocation.
public enum TURNState: UInt8, Sendable {
    case idle, allocating, allocated, closing, closed, failed

    public var name: StaticString {
        switch self {
        case .idle: return "idle"
        case .allocating: return "allocating"
        case .allocated: return "allocated"
        case .closing: return "closing"
        case .closed: return "closed"
        case .failed: return "failed"
        }
    }
}
