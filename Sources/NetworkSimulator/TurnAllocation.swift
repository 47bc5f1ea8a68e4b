import Common
import STUN

/// One allocation on the simulated TURN server (RFC 8656 §6): the 5-tuple it belongs to (UDP
/// and the server's one listening address are implied, so the client's address identifies
/// it), its relayed transport address, and the permissions and channels that decide what
/// may cross the relay. Every lifetime is an absolute instant on the virtual clock.
public struct TurnAllocation {
    public struct Permission {
        public var ip: IPAddress
        public var expiresAt: Instant
    }

    public struct Channel {
        public var number: UInt16
        public var peer: TransportAddress
        public var expiresAt: Instant
    }

    /// The client's transport address as the server sees it (after its NATs).
    public let client: TransportAddress
    public let relayed: TransportAddress
    /// RFC 8656 §5: later requests on this 5-tuple must use the same username (else 441), and
    /// their responses are signed with this key (§6: the key is kept, never the password).
    let username: String
    let key: IntegrityKey
    /// The Allocate that created it: a retransmission of it is answered with success again
    /// (RFC 8656 §5: idempotent), where a new Allocate on the 5-tuple gets 437 (§7.2 step 2).
    let transactionID: TransactionID
    public internal(set) var expiresAt: Instant
    public internal(set) var permissions: [Permission] = []
    public internal(set) var channels: [Channel] = []

    init(client: TransportAddress, relayed: TransportAddress, username: String, key: IntegrityKey,
         transactionID: TransactionID, expiresAt: Instant) {
        self.client = client
        self.relayed = relayed
        self.username = username
        self.key = key
        self.transactionID = transactionID
        self.expiresAt = expiresAt
    }

    /// RFC 8656 §9: only the IP counts, never the port.
    func permits(_ ip: IPAddress, now: Instant) -> Bool {
        permissions.contains { $0.ip == ip && now < $0.expiresAt }
    }

    /// RFC 8656 §9: installs the permission, or resets an existing one's lifetime.
    mutating func permit(_ ip: IPAddress, until expiry: Instant) {
        if let i = permissions.firstIndex(where: { $0.ip == ip }) {
            permissions[i].expiresAt = expiry
        } else {
            permissions.append(Permission(ip: ip, expiresAt: expiry))
        }
    }

    func channel(number: UInt16, now: Instant) -> Channel? {
        channels.first { $0.number == number && now < $0.expiresAt }
    }

    func channel(peer: TransportAddress, now: Instant) -> Channel? {
        channels.first { $0.peer == peer && now < $0.expiresAt }
    }

    /// Drops permissions and channels whose time is up. An expired channel number is freed at
    /// once: the RFC 8656 §12 five-minute quarantine binds clients, not the server.
    mutating func expire(now: Instant) {
        permissions.removeAll { now >= $0.expiresAt }
        channels.removeAll { now >= $0.expiresAt }
    }

    /// The earliest instant at which something in this allocation expires.
    var nextExpiry: Instant {
        var d = expiresAt
        for p in permissions where p.expiresAt < d { d = p.expiresAt }
        for c in channels where c.expiresAt < d { d = c.expiresAt }
        return d
    }
}
