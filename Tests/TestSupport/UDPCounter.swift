import Foundation

/// Counts the datagrams arriving at 127.0.0.1:port (the kernel picks the port when it is 0) on
/// a thread of its own: the speaker behind `--rtp-out`.
public final class UDPCounter: @unchecked Sendable {
    public let fd: Int32
    public let port: UInt16
    private let lock = NSLock()
    private var arrivals: [Date] = []
    private var running = true

    public init(port: UInt16 = 0) {
        let bound = bindLoopback(Int32(SOCK_DGRAM.rawValue), port: port)
        fd = bound.fd
        self.port = bound.port
        setReceiveTimeout(fd, microseconds: 50_000)
        Thread.detachNewThread { self.loop() }
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while lock.withLock({ running }) {
            if buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {
                lock.withLock { arrivals.append(Date()) }
            }
        }
    }

    public var count: Int { lock.withLock { arrivals.count } }
    public func count(since: Date) -> Int { lock.withLock { arrivals.filter { $0 >= since }.count } }

    /// Ends the thread (which holds the counter) and closes the socket.
    public func stop() {
        guard lock.withLock({ let was = running; running = false; return was }) else { return }
        usleep(100_000)
        close(fd)
    }
}
