import Common

/// A byte string of bounded length kept in storage reserved once (NONCE, REALM,
/// PASSWORD-ALGORITHMS): replacing the value never allocates.
struct BoundedBytes {
    private(set) var bytes: [UInt8]
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        bytes = []
        bytes.reserveCapacity(limit)
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// Replaces the value; false (and unchanged) if it is longer than `limit`.
    mutating func set(_ value: UnsafeRawBufferPointer) -> Bool {
        guard value.count <= limit else { return false }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: value)
        return true
    }

    mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { $0.bytesEqual(other) }
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        bytes.withUnsafeBytes(body)
    }
}
