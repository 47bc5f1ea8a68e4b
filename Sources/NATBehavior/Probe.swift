import Common
import STUN

/// The tests of RFC 5780 §4.3-4.5, in the order they run. Filtering runs before mapping
/// tests II and III: those send to the alternate address, which would open the very filter
/// the filtering tests measure.
enum Stage: Equatable {
    /// §4.3/§4.4 test I: socket 0 to the primary address.
    case mappingI
    /// §4.4 test II: CHANGE-REQUEST "change IP" and "change port".
    case filteringII
    /// §4.4 test III: CHANGE-REQUEST "change port".
    case filteringIII
    /// §4.3 test II: to the alternate IP, primary port.
    case mappingII
    /// §4.3 test III: to the alternate IP and port.
    case mappingIII
    /// §4.5: socket 1's mapped address, so that socket 0 can open its filter towards it.
    case hairpinBinding
    /// §4.5: socket 0 to socket 1's mapped address and socket 1 to socket 0's at once.
    case hairpinCross
    /// §4.6: socket 0 to the primary, starting its mapping's idle time.
    case lifetimeRefresh
    /// §4.6: no traffic on socket 0's mapping for the round's idle time.
    case lifetimeIdle
    /// §4.6: socket 1 to the primary with RESPONSE-PORT, answered to socket 0's mapping.
    case lifetimeProbe
}

/// One request of a test, retransmitted with the test's timer under one transaction id.
struct ProbeRequest {
    var socket: LocalSocket
    var destination: TransportAddress
    var id: TransactionID
    /// RFC 5780 §7.2 CHANGE-REQUEST flags, 0 for none.
    var changeFlags: UInt32
    /// RFC 5780 §7.5 RESPONSE-PORT: the answer goes to this port of the request's source IP.
    var responsePort: UInt16?
    /// The socket the answer arrives on: the sending one, unless RESPONSE-PORT redirects it.
    var replySocket: LocalSocket
    /// Where a response must come from: the destination, or the address CHANGE-REQUEST
    /// asked the server to answer from.
    var expectedSource: TransportAddress

    /// A Binding request with CHANGE-REQUEST when asked, and FINGERPRINT (RFC 8489 §7.2.1).
    func write(into buffer: UnsafeMutableRawBufferPointer) throws(BuildError) -> Int {
        var b = try MessageBuilder(into: buffer, type: .bindingRequest, transactionID: id)
        if changeFlags != 0 { try b.append(.changeRequest, uint32: changeFlags) }
        if let responsePort { try b.append(.responsePort, uint16: responsePort) }
        try b.appendFingerprint()
        return b.count
    }
}
