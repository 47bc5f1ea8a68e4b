import Common
import Runtime

/// Answers each connection on the status socket with one JSON line per session.
public final class StatusServer: ReadableHandler {
    let listener: UnixListener
    let report: () -> [String]

    public init?(path: String, loop: EventLoop, report: @escaping () -> [String]) {
        guard let l = UnixListener(path: path) else {
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
