import Common
import STUN

extension TURNClient {
    // MARK: - Permissions and channels

    typealias Permission = TURNPermission

    typealias Channel = TURNChannel

    /// Installs (and keeps refreshing) a permission for `peer`'s IP (RFC 8656 §9); the port is
    /// ignored. A permission that already exists is left as it is.
    public func createPermission(peer: TransportAddress, now: Instant) throws(TURNError) {
        guard state == .allocated, let relayed = relayedAddress else { throw .notAllocated }
        guard peer.ip.isIPv4 == relayed.ip.isIPv4 else { throw .peerAddressFamilyMismatch }
        if permissionIndex(peer.ip) != nil { return }
        guard !permissions.isFull else {
            counters.tableFull += 1
            throw .tableFull(.permissions)
        }
        try startTransaction(.createPermission(peer.ip), now: now)
        permissions.append(Permission(ip: peer.ip, inFlight: true))
    }

    /// Binds a channel to `peer` (RFC 8656 §12.1) and keeps refreshing it; returns its number.
    /// ChannelData is used for this peer once the server confirms (`.channelBound`); until
    /// then `send` uses Send indications. Also creates the peer's permission entry, since the
    /// ChannelBind installs it on the server.
    @discardableResult
    public func bindChannel(peer: TransportAddress, now: Instant) throws(TURNError) -> UInt16 {
        guard state == .allocated, let relayed = relayedAddress else { throw .notAllocated }
        guard peer.ip.isIPv4 == relayed.ip.isIPv4 else { throw .peerAddressFamilyMismatch }
        if let i = channelIndex(peer: peer) { return channels[i].number }
        guard !channels.isFull else {
            counters.tableFull += 1
            throw .tableFull(.channels)
        }
        let needsPermission = permissionIndex(peer.ip) == nil
        if needsPermission && permissions.isFull {
            counters.tableFull += 1
            throw .tableFull(.permissions)
        }
        guard let number = freeChannelNumber() else { throw .noChannelNumber }
        try startTransaction(.channelBind(channel: number, peer: peer), now: now)
        channels.append(Channel(number: number, peer: peer, inFlight: true))
        // The ChannelBind installs the permission; our own CreatePermission refreshes it.
        if needsPermission { permissions.append(Permission(ip: peer.ip)) }
        return number
    }

    /// The channel confirmed for `peer`, if any.
    public func channel(for peer: TransportAddress) -> UInt16? {
        guard let i = channelIndex(peer: peer), channels[i].bound else { return nil }
        return channels[i].number
    }

    /// Whether a permission for `ip` is installed on the server.
    public func hasPermission(_ ip: IPAddress) -> Bool {
        guard let i = permissionIndex(ip) else { return false }
        return permissions[i].installed
    }

    func permissionIndex(_ ip: IPAddress) -> Int? {
        for i in permissions.indices where permissions[i].ip == ip { return i }
        return nil
    }

    func channelIndex(peer: TransportAddress) -> Int? {
        for i in channels.indices where channels[i].peer == peer { return i }
        return nil
    }

    func channelIndex(number: UInt16) -> Int? {
        for i in channels.indices where channels[i].number == number { return i }
        return nil
    }

    func freeChannelNumber() -> UInt16? {
        var n = TURNTiming.firstChannel
        while true {
            if channelIndex(number: n) == nil { return n }
            if n == TURNTiming.lastChannel { return nil }
            n += 1
        }
    }

    /// Refreshes permissions (RFC 8656 §9: they last 300 s) and channel bindings (§12: 600 s)
    /// that are due and not already being refreshed.
    func refreshPermissionsAndChannelsIfDue(now: Instant) {
        for p in permissions.indices {
            guard !permissions[p].inFlight, let at = permissions[p].refreshAt, now >= at else { continue }
            do throws(TURNError) {
                try startTransaction(.createPermission(permissions[p].ip), now: now)
                permissions[p].inFlight = true
            } catch {
                permissions[p].refreshAt = now + TURNTiming.busyRetry
            }
        }
        for c in channels.indices {
            guard !channels[c].inFlight, let at = channels[c].refreshAt, now >= at else { continue }
            do throws(TURNError) {
                try startTransaction(.channelBind(channel: channels[c].number, peer: channels[c].peer), now: now)
                channels[c].inFlight = true
            } catch {
                channels[c].refreshAt = now + TURNTiming.busyRetry
            }
        }
    }
}
