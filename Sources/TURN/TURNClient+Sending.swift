import Common
import STUN

extension TURNClient {
    // MARK: - Data path

    /// Sends `data` to `peer` through the relay: as ChannelData when a channel to it is bound
    /// and confirmed, otherwise as a Send indication (RFC 8656 §11.1). Written straight into
    /// the transmit ring; nothing is allocated.
    public func send(_ data: UnsafeRawBufferPointer, to peer: TransportAddress, now: Instant) throws(TURNError) {
        guard state == .allocated else { throw .notAllocated }
        guard permissionIndex(peer.ip) != nil else { throw .noPermission }
        let slot: UnsafeMutableRawBufferPointer
        do throws(DatagramRingError) {
            slot = try transmits.reserve()
        } catch {
            counters.transmitDropped += 1
            throw .tableFull(.transmitQueue)
        }
        if let i = channelIndex(peer: peer), channels[i].bound {
            let n: Int
            do throws(ChannelDataError) {
                n = try ChannelData.write(channel: channels[i].number, payload: data,
                                          transport: configuration.transport, into: slot)
            } catch {
                throw .payloadTooLarge
            }
            guard queueForServer(length: n, now: now) else { throw .payloadTooLarge }
            counters.channelDataSent += 1
            return
        }
        let id = TransactionID(random: &random)
        let n: Int
        do throws(BuildError) {
            var b = try MessageBuilder(into: slot, type: MessageType(.send, .indication), transactionID: id)
            try b.append(.xorPeerAddress, xorAddress: peer)
            try b.append(.data, bytes: data)
            n = b.count
        } catch {
            throw .payloadTooLarge
        }
        guard queueForServer(length: n, now: now) else { throw .payloadTooLarge }
        counters.sendIndicationsSent += 1
    }

    /// Commits the slot `transmits.reserve()` returned, `length` bytes for the server, and
    /// restarts the keepalive timer; false (counted) if the ring refused it.
    func queueForServer(length: Int, now: Instant) -> Bool {
        do throws(DatagramRingError) {
            try transmits.commit(length: length, to: server)
        } catch {
            counters.transmitDropped += 1
            return false
        }
        lastSentAt = now
        return true
    }

    /// RFC 8445 §11 / RFC 8489 §6.3.2: a Binding indication with FINGERPRINT, which the server
    /// (coturn included) accepts and does not answer, refreshes the NAT binding on the path to
    /// it at the cost of one small datagram. Written into the ring like everything else, so
    /// it allocates nothing.
    func sendKeepalive(now: Instant) {
        let slot: UnsafeMutableRawBufferPointer
        do throws(DatagramRingError) {
            slot = try transmits.reserve()
        } catch {
            // Queued datagrams to the server will refresh the binding once polled; try again
            // an interval later rather than at every call.
            counters.transmitDropped += 1
            lastSentAt = now
            return
        }
        let id = TransactionID(random: &random)
        let n: Int
        do throws(BuildError) {
            var b = try MessageBuilder(into: slot, type: MessageType(.binding, .indication), transactionID: id)
            try b.appendFingerprint()
            n = b.count
        } catch {
            counters.transmitDropped += 1
            lastSentAt = now
            return
        }
        if queueForServer(length: n, now: now) {
            counters.keepalivesSent += 1
        } else {
            lastSentAt = now
        }
    }
}
