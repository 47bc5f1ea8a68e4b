import Common
import STUN

/// Server-reflexive gathering (RFC 8445 §5.1.1.2): Binding requests from each host base to
/// each STUN server, paced with the checks.
extension Agent {
    /// Starts server-reflexive gathering (RFC 8445 §5.1.1.2): one Binding transaction from
    /// every host base to every STUN server of the same family, paced by Ta. Host candidates
    /// must have been added first; `.gatheringComplete` follows when all transactions end.
    /// Called again after host candidates were added (a new address), it gathers for the new
    /// bases only, and `.gatheringComplete` comes again when they are done.
    public func startGathering(now: Instant) {
        gatheringStarted = true
        let before = transactions.count
        if !configuration.lite {
            let servers = configuration.stunServers
            if servers.count > configuration.capacities.stunServers { tableFull(.stunServers) }
            for server in servers.prefix(configuration.capacities.stunServers) {
                for l in locals.indices where locals[l].type == .host && locals[l].address.ip.isIPv4 == server.ip.isIPv4 {
                    let base = locals[l].base
                    // One transaction per base, not per component candidate sharing it.
                    if transactions.contains(where: { t in
                        if case .gather(let b, let s) = t.kind { return b == base && s == server }
                        return false
                    }) { continue }
                    let t = Transaction(id: TransactionID(random: &random), kind: .gather(base: base, server: server),
                                        timer: Retransmission(now: now, rto: Timing.minimumCheckRTO, maxSends: Timing.maxSends,
                                                              lastWaitFactor: Timing.lastWaitFactor),
                                        started: false, role: role)
                    if !transactions.append(t) { tableFull(.transactions) }
                }
            }
        }
        if transactions.count > before { gatheringComplete = false }
        finishGatheringIfDone()
        pump(now: now)
    }

    func startNextGather(now: Instant) -> Bool {
        guard let t = transactions.firstIndex(where: { !$0.started }) else { return false }
        transactions[t].started = true
        transactions[t].timer = Retransmission(now: now, rto: Timing.minimumCheckRTO, maxSends: Timing.maxSends,
                                               lastWaitFactor: Timing.lastWaitFactor)
        _ = transactions[t].timer.poll(now: now)
        sendTransaction(t)
        return true
    }

    func finishGatheringIfDone() {
        guard gatheringStarted, !gatheringComplete else { return }
        if !transactions.contains(where: { $0.isGathering }) {
            gatheringComplete = true
            failureCheckDue = true
            emit(.gatheringComplete)
        }
    }

    func handleGatherResponse(_ m: Message, transaction t: Int, base: TransportAddress, server: TransportAddress, now: Instant) {
        _ = transactions.remove(at: t)
        defer { finishGatheringIfDone() }
        guard m.messageClass == .successResponse, let mapped = try? m.mappedAddress(),
              let hostIndex = locals.firstIndex(where: { $0.type == .host && $0.base == base })
        else { return }
        // RFC 8445 §5.1.3: a server-reflexive candidate equal to its base (no NAT) is redundant.
        if mapped == base { return }
        for component in 1...UInt8(components.count) {
            guard let h = locals.firstIndex(where: { $0.type == .host && $0.base == base && $0.component == component }) else { continue }
            if locals.contains(where: { $0.address == mapped && $0.base == base && $0.component == component }) { continue }
            // Components share the base only when the runtime multiplexes; normally each
            // component has its own base and so its own transaction.
            guard let c = try? addLocal(type: .serverReflexive, component: component, address: mapped, base: base,
                                        related: base, server: server.ip, localPreference: locals[h].localPreference)
            else { return }
            emit(.localCandidate(c))
        }
        _ = hostIndex
    }
}
