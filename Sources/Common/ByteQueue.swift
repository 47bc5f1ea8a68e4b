/// A fixed-capacity FIFO of bytes, allocated once: stream bytes in at the back, consumed from
/// the front. Pending bytes move to the front only when room at the back is needed, so views
/// of pending bytes stay valid until the next `append` or `writableSpace`. Used for the TURN
/// stream's receive side (reassembly) and send side (queued frames).
public final class ByteQueue {
    private let storage: UnsafeMutableRawBufferPointer
    /// Pending bytes are storage[start..<end].
    private var start = 0
    private var end = 0

    public init(capacity: Int) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    public var capacity: Int { storage.count }
    public var count: Int { end - start }
    public var isEmpty: Bool { start == end }
    /// No byte more fits (`append` of anything non-empty refuses).
    public var isFull: Bool { end - start == storage.count }

    /// The pending bytes, oldest first.
    public var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    /// Copies `bytes` in whole, or takes nothing and returns false when they do not fit.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard count + bytes.count <= storage.count else { return false }
        if end + bytes.count > storage.count { compact() }
        if !bytes.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: storage[end..<(end + bytes.count)]).copyMemory(from: bytes)
        }
        end += bytes.count
        return true
    }

    /// All free space, to receive into directly (no copy); follow with `commit`. Moves pending
    /// bytes to the front.
    public func writableSpace() -> UnsafeMutableRawBufferPointer {
        compact()
        return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
    }

    /// Declares `n` bytes written into `writableSpace()`.
    public func commit(_ n: Int) {
        precondition(n >= 0 && end + n <= storage.count)
        end += n
    }

    /// Drops the `n` oldest pending bytes.
    public func consume(_ n: Int) {
        precondition(n >= 0 && n <= count)
        start += n
        if start == end {
            start = 0
            end = 0
        }
    }

    public func removeAll() {
        start = 0
        end = 0
    }

    private func compact() {
        guard start > 0 else { return }
        let n = end - start
        if n > 0 {
            UnsafeMutableRawBufferPointer(rebasing: storage[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[start..<end]))
        }
        start = 0
        end = n
    }
}
