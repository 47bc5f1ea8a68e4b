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
        var deadLocal = [Bool](repeating: false, count: locals.count)
        for l in locals.indices where locals[l].address == address || locals[l].base == address { deadLocal[l] = true }
        guard deadLocal.contains(true) else { return false }

        // A valid pair learned from a check on a dead pair goes with it.
        var deadPair = [Bool](repeating: false, count: pairs.count)
        for p in pairs.indices where deadLocal[pairs[p].local] { deadPair[p] = true }
        for p in pairs.indices where !deadPair[p] {
            if let d = pairs[p].discoveredFrom, d < pairs.count, deadPair[d] { deadPair[p] = true }
        }
        var newPair = [Int?](repeating: nil, count: pairs.count)
        var next = 0
        for p in pairs.indices where !deadPair[p] {
            newPair[p] = next
            next += 1
        }
        var newLocal = [Int](repeating: -1, count: locals.count)
        next = 0
        for l in locals.indices where !deadLocal[l] {
            newLocal[l] = next
            next += 1
        }
        func remap(_ p: Int) -> Int? { p < newPair.count ? newPair[p] : nil }

        var i = 0
        while i < transactions.count {
            var keep = true
            if case .check(let p, let useCandidate) = transactions[i].kind {
                if let q = remap(p) { transactions[i].kind = .check(pair: q, useCandidate: useCandidate) } else { keep = false }
            } else if case .consent(let c, let p) = transactions[i].kind {
                if let q = remap(p) { transactions[i].kind = .consent(component: c, pair: q) } else { keep = false }
            }
            if keep { i += 1 } else { _ = transactions.remove(at: i) }
        }
        var queued: [Int] = []
        while let p = triggered.pop() { queued.append(p) }
        for p in queued { if let q = remap(p) { _ = triggered.push(q) } }

        var lostSelection: [Int] = []
        for ci in components.indices {
            guard let s = components[ci].selected else { continue }
            if let q = remap(s) {
                components[ci].selected = q
            } else {
                components[ci].selected = nil
                components[ci].announcedNominated = false
                lostSelection.append(ci)
            }
        }
        for ci in previousSelection.indices {
            if let prev = previousSelection[ci], prev.local.address == address || prev.local.base == address {
                previousSelection[ci] = nil
                previousSelectionExpiry[ci] = nil
            }
        }

        var p = pairs.count - 1
        while p >= 0 {
            if deadPair[p] { _ = pairs.remove(at: p) }
            p -= 1
        }
        for q in pairs.indices {
            pairs[q].local = newLocal[pairs[q].local]
            if let d = pairs[q].discoveredFrom { pairs[q].discoveredFrom = remap(d) }
        }
        var l = locals.count - 1
        while l >= 0 {
            if deadLocal[l] { _ = locals.remove(at: l) }
            l -= 1
        }

        for ci in lostSelection {
            let component = UInt8(ci + 1)
            updateSelection(component: component, now: now)
            if let s = components[ci].selected {
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
