import Foundation

/// An RTP packet (RFC 3550 §5.1: version 2, payload type 96, SSRC 0x1234) with 100 bytes of
/// payload, the kind the agent forwards as media.
public func testRTPPacket(sequence: Int) -> [UInt8] {
    [0x80, 96, UInt8(sequence >> 8 & 0xFF), UInt8(sequence & 0xFF), 0, 0, 0, 0, 0, 0, 0x12, 0x34]
        + [UInt8](repeating: 0x55, count: 100)
}

/// The camera: an RTP packet every 10 ms to 127.0.0.1:port, on a thread of its own.
public final class RTPCamera: @unchecked Sendable {
    private let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    private let lock = NSLock()
    private var running = true

    public init(port: UInt16) {
        Thread.detachNewThread { self.loop(port) }
    }

    private func loop(_ port: UInt16) {
        var sequence = 0
        while lock.withLock({ running }) {
            sendLoopback(fd, testRTPPacket(sequence: sequence), to: port)
            sequence += 1
            usleep(10_000)
        }
    }

    public func stop() {
        lock.withLock { running = false }
        usleep(50_000)
        close(fd)
    }
}
