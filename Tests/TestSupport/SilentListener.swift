import Foundation

/// A TCP listener on 127.0.0.1 that never accepts: connects complete (the kernel's backlog)
/// and then nothing is ever said — a TLS peer stalled at the start of the handshake.
public final class SilentListener {
    public let fd: Int32
    public let port: UInt16

    public init() {
        let bound = bindLoopback(Int32(SOCK_STREAM.rawValue))
        fd = bound.fd
        port = bound.port
        _ = listen(fd, 16)
    }

    deinit { close(fd) }
}
