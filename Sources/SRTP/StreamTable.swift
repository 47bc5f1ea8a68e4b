import Common

/// The SSRCs one libsrtp session has a stream for. libsrtp clones a stream for every new SSRC
/// (outbound on first use, inbound once a packet authenticates) and keeps it for the session's
/// life, so the session admits at most `capacity` of them per direction.
struct StreamTable {
    private var ssrcs: BoundedArray<UInt32>

    init(capacity: Int) { ssrcs = BoundedArray(capacity: capacity) }

    var count: Int { ssrcs.count }

    func contains(_ ssrc: UInt32) -> Bool {
        // By index: iterating the generic container boxes its iterator in unoptimized builds.
        for i in 0..<ssrcs.count where ssrcs[i] == ssrc { return true }
        return false
    }

    /// Whether a packet of `ssrc` may go to libsrtp: a known stream, or room for a new one.
    func admits(_ ssrc: UInt32) -> Bool { !ssrcs.isFull || contains(ssrc) }

    mutating func insert(_ ssrc: UInt32) {
        if !contains(ssrc) { ssrcs.append(ssrc) }
    }
}
