import CLinux
import Common
import Runtime

/// Answers each connection on the status socket with one JSON line per session. The socket
/// is created mode 0600: the status names peers' addresses and the call's state, for the
/// daemon's own user only.
public final class StatusServer: ReadableHandler {
    let listener: UnixListener
    let report: () -> [String]

    public init?(path: String, loop: EventLoop, report: @escaping () -> [String]) {
        // bind(2) creates the socket file with the umask applied: no moment with wider access.
        let previous = umask(0o177)
        let l = UnixListener(path: path)
        umask(previous)
        guard let l else {
            Log.warning("status: cannot listen on \(path)")
            return nil
        }
        listener = l
        self.report = report
        try? loop.register(fd: l.descriptor, self)
    }

    public func readable(now: Instant) {
        listener.answerPending { report().map { $0 + "\n" }.joined() }
    }
}
