import Common

/// RFC 4787 §4.1 (mapping) and §5 (filtering) behaviours.
public enum NATBehavior: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Mapping: one external port per internal endpoint, whatever the destination.
    /// Filtering: anyone may send to an existing mapping.
    case endpointIndependent
    /// Mapping: one external port per (internal endpoint, destination IP).
    /// Filtering: only IPs the internal endpoint has sent to (any port).
    case addressDependent
    /// Mapping: one external port per (internal endpoint, destination IP:port).
    /// Filtering: only the exact IP:port pairs the internal endpoint has sent to.
    case addressAndPortDependent

    /// "EI", "AD" or "APD"; suffix with M or F ("EIM/ADF").
    public var description: String {
        switch self {
        case .endpointIndependent: return "EI"
        case .addressDependent: return "AD"
        case .addressAndPortDependent: return "APD"
        }
    }
}

/// A NAT's mapping and filtering behaviour, with the classic RFC 3489 names as presets.
public struct NATType: Hashable, Sendable, CustomStringConvertible {
    var mapping: NATBehavior
    var filtering: NATBehavior

    public init(mapping: NATBehavior, filtering: NATBehavior) {
        self.mapping = mapping
        self.filtering = filtering
    }

    /// EIM/EIF.
    public static let fullCone = NATType(mapping: .endpointIndependent, filtering: .endpointIndependent)
    /// EIM/ADF.
    public static let restrictedCone = NATType(mapping: .endpointIndependent, filtering: .addressDependent)
    /// EIM/APDF.
    public static let portRestrictedCone = NATType(mapping: .endpointIndependent, filtering: .addressAndPortDependent)
    /// APDM/APDF.
    public static let symmetric = NATType(mapping: .addressAndPortDependent, filtering: .addressAndPortDependent)

    public var description: String {
        switch self {
        case .fullCone: return "full-cone"
        case .restrictedCone: return "restricted-cone"
        case .portRestrictedCone: return "port-restricted-cone"
        case .symmetric: return "symmetric"
        default: return "\(mapping)M/\(filtering)F"
        }
    }
}

/// A NAT box between an inner (private) realm and an outer realm: the public internet, or
/// the inner realm of another NAT when nested (`behind:`, e.g. carrier-grade NAT).
///
/// State is only touched by the `Network` as datagrams cross the box, at the virtual time they
/// reach it (after the sender's access link, before the NAT's own link), so binding timeouts
/// are exact on the virtual clock.
public final class NAT {
    let name: String
    /// The one external address, in the outer realm. Only this address family is translated.
    let publicAddress: IPAddress
    /// The NAT this one sits behind, or nil on the public internet.
    let outerNAT: NAT?
    var mapping: NATBehavior
    var filtering: NATBehavior
    /// Idle time after which a mapping (and its filter permissions) is gone: RFC 4787 REQ-5.
    var bindingTimeout: Interval
    /// RFC 4787 REQ-6: outbound traffic always refreshes; inbound only when this is set.
    var inboundRefreshesBinding = false
    /// RFC 4787 REQ-9: a datagram from inside to the NAT's own public address is translated
    /// out and back in (the receiver sees the sender's external mapping as its source).
    public var hairpinning = true
    /// The NAT's own link to its outer realm: instantaneous and lossless unless set.
    var uplink = LinkConditions.instant
    var downlink = LinkConditions.instant
    /// Both directions at once (reads the uplink).
    public var link: LinkConditions {
        get { uplink }
        set { uplink = newValue; downlink = newValue }
    }
    /// External ports are allocated sequentially from the start of this range, wrapping.
    var portRange: ClosedRange<UInt16> = 49152...65535 {
        didSet { nextPort = portRange.lowerBound }
    }

    public struct Mapping: Equatable {
        public var internalAddress: TransportAddress
        public var externalAddress: TransportAddress
        /// The destination this mapping is for: nil (EIM), IP only (ADM) or IP:port (APDM).
        var destination: MappingKey
        var lastRefresh: Instant
        var created: Instant
        /// Remote IPs and IP:ports the internal endpoint sent to through this mapping.
        var sentToIPs: Set<IPAddress> = []
        var sentTo: Set<TransportAddress> = []
    }

    struct MappingKey: Hashable {
        var internalAddress: TransportAddress
        var remoteIP: IPAddress?
        var remotePort: UInt16?
    }

    private var byKey: [MappingKey: UInt16] = [:]
    private var byPort: [UInt16: Mapping] = [:]
    private var nextPort: UInt16
    /// Datagrams translated (both directions) and inbound ones refused.
    public private(set) var translatedCount = 0
    private(set) var refusedCount = 0

    init(name: String, publicAddress: IPAddress, type: NATType, bindingTimeout: Interval, behind outer: NAT?) {
        self.name = name
        self.publicAddress = publicAddress
        self.outerNAT = outer
        self.mapping = type.mapping
        self.filtering = type.filtering
        self.bindingTimeout = bindingTimeout
        self.nextPort = 49152
    }

    public var type: NATType {
        get { NATType(mapping: mapping, filtering: filtering) }
        set { mapping = newValue.mapping; filtering = newValue.filtering }
    }

    /// Forgets every mapping, as `conntrack -F` on a Linux router or a NAT reboot does: the
    /// next outbound datagram of an internal endpoint gets a new external port.
    public func flushMappings() {
        byKey.removeAll()
        byPort.removeAll()
    }

    /// The live mappings, oldest port first (for assertions and debugging).
    public func activeMappings(now: Instant) -> [Mapping] {
        byPort.values.filter { !isExpired($0, now) }.sorted { $0.externalAddress.port < $1.externalAddress.port }
    }

    /// The live external address used for `internalAddress` towards `remote`, if any.
    func externalAddress(for internalAddress: TransportAddress, towards remote: TransportAddress, now: Instant) -> TransportAddress? {
        guard let port = byKey[key(internalAddress, remote)], let m = byPort[port], !isExpired(m, now) else { return nil }
        return m.externalAddress
    }

    /// Forgets every mapping (a NAT reboot).
    func reset() {
        byKey.removeAll()
        byPort.removeAll()
        nextPort = portRange.lowerBound
    }

    enum Verdict {
        case translated(TransportAddress, note: String)
        case dropped(DropKind, String)
    }

    private func key(_ source: TransportAddress, _ destination: TransportAddress) -> MappingKey {
        switch mapping {
        case .endpointIndependent: return MappingKey(internalAddress: source, remoteIP: nil, remotePort: nil)
        case .addressDependent: return MappingKey(internalAddress: source, remoteIP: destination.ip, remotePort: nil)
        case .addressAndPortDependent:
            return MappingKey(internalAddress: source, remoteIP: destination.ip, remotePort: destination.port)
        }
    }

    private func isExpired(_ m: Mapping, _ now: Instant) -> Bool { now >= m.lastRefresh + bindingTimeout }

    private func remove(_ m: Mapping) {
        byPort[m.externalAddress.port] = nil
        byKey[m.destination] = nil
    }

    /// A datagram from the inner realm leaves through the NAT: returns its new source.
    func outbound(from source: TransportAddress, to destination: TransportAddress, now: Instant) -> Verdict {
        guard destination.ip.isIPv4 == publicAddress.isIPv4 else {
            return .dropped(.noRoute, "\(name) translates \(publicAddress.isIPv4 ? "IPv4" : "IPv6") only")
        }
        if destination.ip == publicAddress && !hairpinning {
            return .dropped(.natFiltering, "\(name) does not hairpin")
        }
        let k = key(source, destination)
        var note = ""
        var m: Mapping
        if let port = byKey[k], let existing = byPort[port], !isExpired(existing, now) {
            m = existing
            note = "\(name): \(source) => \(m.externalAddress)"
        } else {
            if let port = byKey[k], let stale = byPort[port] { remove(stale) }
            let external = TransportAddress(publicAddress, allocatePort(now))
            m = Mapping(internalAddress: source, externalAddress: external, destination: k, lastRefresh: now, created: now)
            byKey[k] = external.port
            note = "\(name): new mapping \(source) => \(external)"
        }
        m.lastRefresh = now
        m.sentToIPs.insert(destination.ip)
        m.sentTo.insert(destination)
        byPort[m.externalAddress.port] = m
        translatedCount += 1
        return .translated(m.externalAddress, note: note)
    }

    /// A datagram from the outer realm to `publicAddress`: returns its new destination.
    func inbound(from source: TransportAddress, to destination: TransportAddress, now: Instant) -> Verdict {
        guard var m = byPort[destination.port] else {
            refusedCount += 1
            return .dropped(.natFiltering, "\(name): no mapping for \(destination)")
        }
        if isExpired(m, now) {
            remove(m)
            refusedCount += 1
            return .dropped(.natFiltering, "\(name): mapping \(m.internalAddress) => \(destination) expired")
        }
        let allowed: Bool
        switch filtering {
        case .endpointIndependent: allowed = true
        case .addressDependent: allowed = m.sentToIPs.contains(source.ip)
        case .addressAndPortDependent: allowed = m.sentTo.contains(source)
        }
        guard allowed else {
            refusedCount += 1
            return .dropped(.natFiltering, "\(name): \(filtering)F filtered, mapping \(m.internalAddress) => "
                                + "\(destination) never sent to " + (filtering == .addressDependent ? "\(source.ip)" : "\(source)"))
        }
        if inboundRefreshesBinding {
            m.lastRefresh = now
            byPort[destination.port] = m
        }
        translatedCount += 1
        return .translated(m.internalAddress, note: "\(name): \(destination) => \(m.internalAddress)")
    }

    private func allocatePort(_ now: Instant) -> UInt16 {
        let size = Int(portRange.upperBound) - Int(portRange.lowerBound) + 1
        for _ in 0..<size {
            let port = nextPort
            nextPort = port == portRange.upperBound ? portRange.lowerBound : port + 1
            if let used = byPort[port] {
                guard isExpired(used, now) else { continue }
                remove(used)
            }
            return port
        }
        preconditionFailure("NAT \(name): all \(size) external ports are in use")
    }
}

/// Where a site sits, for NAT-matrix tests: on the public internet or behind one NAT type.
/// `allCases` lists the five classic cases; pairs of them give the 25 cells.
public enum NATPlacement: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case open
    case fullCone
    case restrictedCone
    case portRestrictedCone
    case symmetric

    public var natType: NATType? {
        switch self {
        case .open: return nil
        case .fullCone: return .fullCone
        case .restrictedCone: return .restrictedCone
        case .portRestrictedCone: return .portRestrictedCone
        case .symmetric: return .symmetric
        }
    }

    public var description: String { natType?.description ?? "open" }
}
