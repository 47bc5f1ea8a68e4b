import Common

/// What became of one datagram (one record per datagram when tracing).
public struct DatagramRecord: Equatable {
    public enum Outcome: Equatable {
        case delivered(endpoint: String)
        case dropped(DropKind, reason: String)
    }

    public var id: Int
    public var sentAt: Instant
    /// When it was delivered or dropped.
    var time: Instant
    var sender: String
    /// As sent.
    var from: TransportAddress
    var to: TransportAddress
    /// As last seen (after NAT translations).
    public var finalFrom: TransportAddress
    var finalTo: TransportAddress
    var size: Int
    var summary: String
    /// NAT translations on the way, in order.
    public var notes: [String]
    public var outcome: Outcome

    var delivered: Bool { if case .delivered = outcome { return true } else { return false } }

    var line: String {
        var s = "\(formatTime(time)) #\(id) \(sender) \(from) -> \(to) \(summary)"
        for n in notes { s += " | \(n)" }
        switch outcome {
        case .delivered(let endpoint):
            s += " | delivered to \(endpoint)"
            if finalFrom != from || finalTo != to { s += " as \(finalFrom) -> \(finalTo)" }
        case .dropped(let kind, let reason):
            s += " | DROPPED \(kind): \(reason)"
        }
        if sentAt != time { s += " (sent \(formatTime(sentAt)))" }
        return s
    }
}

/// "12.345ms" from the origin of the virtual clock.
func formatTime(_ t: Instant) -> String {
    let micros = t.nanoseconds / 1_000
    let frac = String(micros % 1_000)
    return "\(micros / 1_000).\(String(repeating: "0", count: 3 - frac.count))\(frac)ms"
}
