import Common

extension Agent {
    /// Withdraws the local candidate at `address` and every candidate based on it (peer-
    /// reflexive ones learned through its checks): its base is gone, as a TURN allocation that
    /// was lost or replaced (RFC 8656 §3.1). Its pairs and their transactions are removed, so no
    /// check, consent request or media goes from a dead address and the table slots are free for
    /// the replacement. If media used one of its pairs, the best remaining valid pair takes over
    /// (RFC 8445 §12.1); with none, the component is checking again and fails when no pair can
    /// succeed any more (RFC 8445 §8.1.2). Returns whether anything was removed.
    @discardableResult
    public func removeLocalCandidate(_ address: TransportAddress, now: Instant) -> Bool {
        func dead(_ c: Candidate) -> Bool { c.address == address || c.base == address }
        guard locals.contains(where: dead) else { return false }

        // Pairs refer to candidates and to each other by id, so what stays keeps its names.
        // A valid pair learned from a check on a dead pair goes with it: it comes later in the
        // table, by when the pair it names is gone.
        var p = 0
        while p < pairs.count {
            let from = pairs[p].discoveredFrom
            if dead(local(ofPair: p)) || (from != nil && pairs.index(of: from!) == nil) {
                _ = pairs.remove(at: p)
            } else {
                p += 1
            }
        }
        do {
            let pairs = pairs
            transactions.removeAll { t in
                switch t.kind {
                case .check(let pair, _), .consent(_, let pair): return pairs.index(of: pair) == nil
                case .gather: return false
                }
            }
            triggered.removeAll { pairs.index(of: $0) == nil }
        }
        for ci in previousSelection.indices {
            if let prev = previousSelection[ci], dead(prev.local) {
                previousSelection[ci] = nil
                previousSelectionExpiry[ci] = nil
            }
        }
        locals.removeAll(where: dead)

        for ci in components.indices {
            guard let s = components[ci].selected, pairs.index(of: s) == nil else { continue }
            components[ci].selected = nil
            components[ci].announcedNominated = false
            let component = UInt8(ci + 1)
            updateSelection(component: component, now: now)
            if let s = selectedIndex(ci) {
                // Another valid pair carries media now; until it is nominated the agent is
                // connected, not completed.
                if !pairs[s].nominated && state == .completed { setState(.connected) }
            } else {
                components[ci].lastConsent = nil
                components[ci].nextConsent = nil
                if state == .connected || state == .completed || state == .disconnected { setState(.checking) }
            }
        }
        checkFailure(now: now)
        return true
    }
}
