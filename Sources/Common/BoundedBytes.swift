/// A byte string of at most `capacity` bytes in storage reserved once (a TURN server's NONCE,
/// REALM, PASSWORD-ALGORITHMS): replacing the value never allocates. Of the fixed-capacity
/// family (see `BoundedArray`): a value too long is refused and the old one kept.
public struct BoundedBytes {
    public private(set) var bytes: [UInt8]
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    /// Replaces the value; false (and unchanged) if it is longer than `capacity`.
    public mutating func set(_ value: UnsafeRawBufferPointer) -> Bool {
        guard value.count <= capacity else { return false }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: value)
        return true
    }

    /// Keeps the reserved storage.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { $0.bytesEqual(other) }
    }

    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        bytes.withUnsafeBytes(body)
    }
}
