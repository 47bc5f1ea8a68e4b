import Common
import STUN

/// The selected pair of each component (RFC 8445 §8.1.1, §12.1) and the agent's state
/// that follows from it.
extension Agent {
    /// What media should use for `component`: the nominated pair, else the best valid pair,
    /// else (during an ICE restart) the pair selected before it.
    /// Nil once consent is lost (RFC 7675 §5.1: transmission on the pair must stop) or the
    /// agent is closed.
    public func selectedPair(component: UInt8 = 1) -> (local: Candidate, remote: Candidate, nominated: Bool)? {
        guard validComponent(component), state != .failed, state != .closed else { return nil }
        if let i = selectedIndex(Int(component) - 1) {
            return (local(ofPair: i), remote(ofPair: i), pairs[i].nominated)
        }
        if let prev = previousSelection[Int(component) - 1] { return (prev.local, prev.remote, true) }
        return nil
    }

    /// Whether media from `source` arriving on `localBase` belongs to this session: the remote
    /// end of a pair that has proved itself (our check succeeded, or its authenticated check
    /// arrived). RFC 8445 §12.2: be prepared to receive on any candidate pair, since an
    /// RFC 5245 peer nominating aggressively may keep sending on a pair other than ours.
    public func acceptsMedia(from source: TransportAddress, on localBase: TransportAddress) -> Bool {
        for p in pairs.indices where pairs[p].valid || pairs[p].receivedCheck {
            if remote(ofPair: p).address == source && local(ofPair: p).base == localBase { return true }
        }
        return false
    }

    func updateSelection(component: UInt8, now: Instant) {
        let ci = Int(component) - 1
        var best: Int? = nil
        for i in pairs.indices where pairs[i].component == component && pairs[i].valid {
            if pairs[i].nominated && !(best.map { pairs[$0].nominated } ?? false) {
                best = i
            } else if best == nil || (pairs[i].nominated == pairs[best!].nominated && pairs[i].priority > pairs[best!].priority) {
                best = i
            }
        }
        guard let best else {
            // The valid pair was lost (its nomination failed): nothing to send on any more.
            if components[ci].selected != nil {
                components[ci].selected = nil
                components[ci].announcedNominated = false
                components[ci].lastConsent = nil
                components[ci].nextConsent = nil
                if state == .connected || state == .completed || state == .disconnected { setState(.checking) }
                checkFailure(now: now)
            }
            return
        }
        if components[ci].firstValidAt == nil { components[ci].firstValidAt = now }
        let bestID = pairs[best].id
        if components[ci].selected != bestID || components[ci].announcedNominated != pairs[best].nominated {
            if components[ci].selected != bestID {
                // RFC 7675 §5.1: the check that made the pair valid is its first consent; from
                // now on consent is checked on the pair media uses, nominated or not, in
                // either role (RFC 8445 §12.1 lets media use a valid pair before nomination).
                components[ci].lastConsent = now
                if components[ci].nextConsent == nil { components[ci].nextConsent = now + consentInterval() }
            }
            components[ci].selected = bestID
            components[ci].announcedNominated = pairs[best].nominated
            previousSelection[ci] = nil
            previousSelectionExpiry[ci] = nil
            emit(.selectedPair(component: component, local: local(ofPair: best), remote: remote(ofPair: best),
                               nominated: pairs[best].nominated))
        }
        updateState()
    }

    func updateState() {
        guard state != .closed else { return }
        var allValid = true, allNominated = true
        for c in components.indices {
            guard let s = selectedIndex(c) else {
                allValid = false
                allNominated = false
                continue
            }
            if !pairs[s].nominated { allNominated = false }
        }
        if allNominated {
            setState(.completed)
        } else if allValid && (state == .checking || state == .new || state == .disconnected) {
            setState(.connected)
        }
    }
}
