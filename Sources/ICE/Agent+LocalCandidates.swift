import Common
import STUN

/// Local candidates (RFC 8445 §5.1): host and relayed candidates, their priorities and
/// foundations. Server-reflexive ones come from gathering (Agent+Gathering.swift).
extension Agent {
    /// A local base (a bound socket) for `component`: becomes a host candidate.
    /// `localPreference` defaults to preferring IPv6, then the order bases were added
    /// (RFC 8445 §5.1.2.1, RFC 8421).
    @discardableResult
    public func addHostCandidate(base: TransportAddress, component: UInt8 = 1, localPreference: UInt16? = nil) throws(ICEError) -> Candidate {
        guard validComponent(component) else { throw .invalidComponent }
        let pref = localPreference ?? defaultLocalPreference(for: base.ip)
        let c = try addLocal(type: .host, component: component, address: base, base: base, related: nil,
                             server: nil, localPreference: pref)
        emit(.localCandidate(c))
        // A base that appears after remote candidates (a new interface) is paired at once.
        if !remotes.isEmpty {
            pairWithRemotes(localIndex: locals.count - 1)
            if (state == .new || state == .failed) && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        }
        return c
    }

    /// A relayed candidate allocated by the TURN layer (RFC 8656). Its base is itself
    /// (RFC 8445 §5.1.1.2): transmits from it go to the TURN client to be wrapped, and
    /// datagrams the relay delivers are handed in with `to:` the relayed address.
    /// `serverTransport` is how the TURN server was reached (UDP, TCP or TLS): relayed
    /// candidates obtained over different transports get different foundations
    /// (RFC 8445 §5.1.1.3), so their pairs are unfrozen independently (§6.1.2.6).
    @discardableResult
    public func addRelayedCandidate(address: TransportAddress, server: TransportAddress, serverTransport: ServerTransport = .udp,
                                    mappedAddress: TransportAddress? = nil, component: UInt8 = 1,
                                    localPreference: UInt16 = 65535) throws(ICEError) -> Candidate {
        guard validComponent(component) else { throw .invalidComponent }
        let c = try addLocal(type: .relayed, component: component, address: address, base: address,
                             related: mappedAddress, server: server.ip, serverTransport: serverTransport,
                             localPreference: localPreference)
        emit(.localCandidate(c))
        pairWithRemotes(localIndex: locals.count - 1)
        if (state == .new || state == .failed) && remoteCredentials != nil && !pairs.isEmpty { setState(.checking) }
        return c
    }

    func defaultLocalPreference(for ip: IPAddress) -> UInt16 {
        // The same IP (another component) keeps its preference; each new IP of a family
        // ranks below the previous one.
        var sameFamily = 0
        for c in locals where c.type == .host {
            if c.address.ip == ip { return c.localPreference }
            if c.address.ip.isIPv4 == ip.isIPv4 && c.component == 1 { sameFamily += 1 }
        }
        let top: UInt16 = ip.isIPv4 ? 32767 : 65535
        return top - UInt16(min(sameFamily, 1000)) * 16
    }

    /// `serverTransport` is how `server` was reached; server-reflexive gathering is STUN over
    /// UDP, and candidates without a server ignore it.
    func addLocal(type: CandidateType, component: UInt8, address: TransportAddress, base: TransportAddress,
                  related: TransportAddress?, server: IPAddress?, serverTransport: ServerTransport = .udp,
                  localPreference: UInt16) throws(ICEError) -> Candidate {
        let key = FoundationKey(type: type, baseIP: base.ip, serverIP: server,
                                serverTransport: server == nil ? .udp : serverTransport, transport: .udp)
        let foundation = try foundationFor(key)
        let c = Candidate(type: type, component: component, priority: Candidate.priority(type: type, localPreference: localPreference, component: component),
                          foundation: foundation, address: address, base: base, relatedAddress: related)
        guard let stored = insert(c, into: &locals) else {
            tableFull(.localCandidates)
            throw .tableFull(.localCandidates)
        }
        return stored
    }

    func foundationFor(_ key: FoundationKey) throws(ICEError) -> Foundation {
        if let i = foundationKeys.firstIndex(where: { $0 == key }) { return Foundation(number: i + 1) }
        guard foundationKeys.append(key) else {
            tableFull(.localCandidates)
            throw .tableFull(.localCandidates)
        }
        return Foundation(number: foundationKeys.count)
    }
}
