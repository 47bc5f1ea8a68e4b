import Common
import STUN

/// Consent freshness (RFC 7675) on the selected pairs, or Binding-indication keepalives
/// (RFC 8445 §11) when consent is off.
extension Agent {
    func consentInterval() -> Interval {
        // RFC 7675 §5.1: uniformly random in [0.8, 1.2] x 5 s.
        let base = Timing.consentBase.nanoseconds
        let jitter = Int64(random.next() % UInt64(base * 2 / 5 + 1))
        return Interval(nanoseconds: base * 4 / 5 + jitter)
    }

    /// RFC 7675 consent freshness on the selected pair of each component (nominated or not:
    /// whatever media may use), or RFC 8445 §11 keepalives.
    func consentAndKeepalive(now: Instant) {
        guard state != .failed else { return }  // consent is over; a restart starts it again
        let checkingConsent = configuration.consentFreshness && !configuration.lite
        for ci in components.indices {
            guard let s = selectedIndex(ci) else { continue }
            if checkingConsent {
                // RFC 7675 §5.1: consent expired on any component ends the session.
                if let last = components[ci].lastConsent, now >= last + Timing.consentTimeout {
                    setState(.failed)
                    return
                }
                if let next = components[ci].nextConsent, now >= next {
                    components[ci].nextConsent = now + consentInterval()
                    let t = Transaction(id: TransactionID(random: &random), kind: .consent(component: UInt8(ci + 1), pair: pairs[s].id),
                                        timer: Retransmission(now: now, rto: Timing.consentBase, maxSends: 1, lastWaitFactor: 1),
                                        started: true, role: role)
                    if transactions.append(t) {
                        let k = transactions.count - 1
                        _ = transactions[k].timer.poll(now: now)
                        sendTransaction(k)
                    } else {
                        tableFull(.transactions)
                    }
                }
            } else if !configuration.lite {
                let last = components[ci].lastKeepalive ?? components[ci].firstValidAt ?? now
                if now >= last + Timing.keepalive {
                    components[ci].lastKeepalive = now
                    sendKeepalive(pair: s)
                }
            }
        }
        // One verdict for the agent from all components: disconnected while any of them lacks
        // a recent response, connected again only when none does.
        guard checkingConsent else { return }
        let stale = consentStale(now: now)
        if stale && (state == .completed || state == .connected) {
            setState(.disconnected)
        } else if !stale && state == .disconnected {
            updateState()
        }
    }

    /// RFC 8445 §11: a Binding indication with FINGERPRINT keeps NAT bindings open.
    func sendKeepalive(pair p: Int) {
        let local = self.local(ofPair: p), remote = self.remote(ofPair: p)
        let id = TransactionID(random: &random)
        queue(from: local.base, to: remote.address) { buf in
            guard var b = try? MessageBuilder(into: buf, type: .bindingIndication, transactionID: id),
                  (try? b.appendFingerprint()) != nil else { return 0 }
            return b.count
        }
    }

    /// RFC 7675 §5.1: an authenticated success response from the pair's remote address renews
    /// consent.
    func handleConsentResponse(_ m: Message, component: UInt8, pair p: Int, from source: TransportAddress, now: Instant) {
        guard m.messageClass == .successResponse, source == remote(ofPair: p).address else { return }
        let c = Int(component) - 1
        components[c].lastConsent = now
        if state == .disconnected && !consentStale(now: now) { updateState() }
        let local = local(ofPair: p).address
        if let mapped = try? m.mappedAddress(), mapped != local, mapped != components[c].reboundTo {
            components[c].reboundTo = mapped
            emit(.mappingChanged(component: component, was: local, now: mapped))
        }
    }

    /// Whether a selected pair has gone `disconnectedAfter` without a consent response.
    func consentStale(now: Instant) -> Bool {
        for c in components.indices where components[c].selected != nil {
            if let last = components[c].lastConsent, now >= last + Timing.disconnectedAfter { return true }
        }
        return false
    }
}
