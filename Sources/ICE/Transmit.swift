import Common

/// A datagram the agent wants sent: from the local base `source` to `destination`.
/// `bytes` points into the agent's transmit ring (a `DatagramRing`) and stays valid until
/// the next call on the agent.
public typealias Transmit = Datagram

/// Bytes per slot of the agent's transmit ring: the IPv6 minimum MTU (RFC 8200 §5), which
/// every STUN message the agent builds fits (RFC 8489 §6.1 asks to stay below the path MTU).
let transmitSlotSize = 1280
