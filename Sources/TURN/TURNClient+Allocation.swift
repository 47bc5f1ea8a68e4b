import Common
import STUN

extension TURNClient {
    // MARK: - Allocation

    /// Sends the first Allocate (RFC 8656 §7.1): REQUESTED-TRANSPORT UDP, without credentials;
    /// the server's 401 supplies REALM and NONCE.
    public func start(now: Instant) throws(TURNError) {
        guard state == .idle else { throw .alreadyStarted }
        state = .allocating
        allocateAttempts = 1
        try startTransaction(.allocate, now: now)
    }

    /// Deletes the allocation (RFC 8656 §8: Refresh with LIFETIME 0). Pending requests are
    /// abandoned; `.deallocated` follows when the server answers (or does not).
    public func close(now: Instant) {
        switch state {
        case .allocated:
            transactions.removeAll()
            state = .closing
            refreshAt = nil
            allocateRetryAt = nil
            do throws(TURNError) {
                try startTransaction(.refresh(lifetime: 0), now: now)
            } catch {
                finishClose()
            }
        case .idle, .allocating:
            transactions.removeAll()
            allocateRetryAt = nil
            state = .closed
        case .closing, .closed, .failed:
            break
        }
    }

    /// The TCP or TLS connection to the server closed or broke. RFC 8656 §3.1 ties the
    /// allocation to that connection, so it is gone: an allocation in progress or in use fails
    /// with `.connectionLost` (and nothing more is sent); a close in progress is complete.
    public func connectionLost(now: Instant) {
        switch state {
        case .allocating, .allocated:
            fail(.connectionLost)
        case .closing:
            finishClose()
        case .idle:
            state = .failed
            emit(.failed(.connectionLost))
        case .closed, .failed:
            break
        }
    }

    func finishClose() {
        transactions.removeAll()
        permissions.removeAll()
        channels.removeAll()
        state = .closed
        emit(.deallocated)
    }

    func fail(_ f: TURNFailure) {
        transactions.removeAll()
        permissions.removeAll()
        channels.removeAll()
        allocateRetryAt = nil
        refreshAt = nil
        state = .failed
        emit(.failed(f))
    }

    /// Refreshes the allocation ahead of its expiry (RFC 8656 §8); a full transaction table
    /// tries again a little later.
    func refreshAllocationIfDue(now: Instant) {
        guard let at = refreshAt, now >= at,
              !hasTransaction({ if case .refresh = $0 { return true } else { return false } }) else { return }
        do throws(TURNError) {
            try startTransaction(.refresh(lifetime: configuration.requestedLifetime), now: now)
            refreshAt = nil
        } catch {
            refreshAt = now + TURNTiming.busyRetry
        }
    }
}
