import Common
import STUN

// The STUN datagrams the simulator tests' probes send and read.

/// A Binding request with FINGERPRINT (RFC 8489 §6.1).
func stunBindingRequest(_ id: TransactionID) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { raw -> Int in
        do throws(BuildError) {
            var b = try MessageBuilder(into: raw, type: .bindingRequest, transactionID: id)
            try b.appendFingerprint()
            return b.count
        } catch {
            preconditionFailure("cannot build a Binding request: \(error)")
        }
    }
    return Array(buffer[0..<count])
}

/// The transaction id and mapped address of a Binding success response, nil for anything else.
func stunBindingResult(_ bytes: [UInt8]) -> (id: TransactionID, mapped: TransportAddress)? {
    bytes.withUnsafeBytes { raw in
        guard let m = try? Message(parsing: raw), m.type == .bindingSuccess,
              let mapped = try? m.mappedAddress()
        else { return nil }
        return (m.transactionID, mapped)
    }
}
