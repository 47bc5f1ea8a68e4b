import Common

/// Per-direction media counters: packets, bytes, sequence gaps (RFC 3550 A.1 style: a jump
/// ahead of the expected sequence number counts the skipped numbers), late or duplicate
/// packets, and the time of the last packet.
public struct StreamCounters: Sendable {
    public private(set) var packets = 0
    public private(set) var bytes = 0
    public private(set) var rtcpPackets = 0
    public private(set) var sequenceGaps = 0
    public private(set) var lateOrDuplicate = 0
    public private(set) var invalid = 0
    public private(set) var lastPacket: Instant? = nil
    public private(set) var ssrc: UInt32? = nil
    var highest: UInt16 = 0

    public init() {}

    /// RFC 3550 A.1: a jump larger than this is a restart of the sequence, not a loss.
    static let maxDropout: UInt16 = 3000

    public mutating func recordRTP(_ h: RTPHeader, size: Int, now: Instant) {
        if ssrc != h.ssrc || packets == 0 {
            ssrc = h.ssrc
            highest = h.sequenceNumber
        } else {
            let delta = h.sequenceNumber &- highest
            if delta == 0 || delta > 0x8000 {
                lateOrDuplicate += 1
            } else if delta < Self.maxDropout {
                sequenceGaps += Int(delta) - 1
                highest = h.sequenceNumber
            } else {
                highest = h.sequenceNumber  // a restarted sender
            }
        }
        packets += 1
        bytes += size
        lastPacket = now
    }

    public mutating func recordRTCP(size: Int, now: Instant) {
        rtcpPackets += 1
        bytes += size
        lastPacket = now
    }

    public mutating func recordInvalid() { invalid += 1 }
}
