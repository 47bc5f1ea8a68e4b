import Common

/// Parses a textual IP address, trapping on typos (test topologies are literals).
public func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { preconditionFailure("not an IP address: \(text)") }
    return a
}

/// Parses "ip:port" or "[v6]:port", trapping on typos.
public func addr(_ text: String) -> TransportAddress {
    guard let a = TransportAddress(text) else { preconditionFailure("not a transport address: \(text)") }
    return a
}
