/// Counted, never logged per packet: what the agent dropped and why.
public struct Counters: Sendable {
    public var malformed = 0
    public var unauthenticated = 0
    public var unknownTransaction = 0
    public var roleConflicts = 0
    public var checksSent = 0
    public var checkRetransmits = 0
    public var responsesSent = 0
    public var tableFull = 0
    public var transmitDropped = 0
    public init() {}
}
