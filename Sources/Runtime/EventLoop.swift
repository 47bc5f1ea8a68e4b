import CLinux
import Common

/// Something the event loop wakes when its descriptor is readable. Class-bound, so loops
/// hold them as `any` even in Embedded Swift.
public protocol ReadableHandler: AnyObject {
    func readable(now: Instant)
    /// Called when the descriptor is writable, if registered with `writable: true`.
    func writable(now: Instant)
}

extension ReadableHandler {
    public func writable(now: Instant) {}
}

/// Something with deadlines (an ICE session, a media source): the loop arms one timerfd for
/// the earliest of them.
public protocol TimerClient: AnyObject {
    var nextDeadline: Instant? { get }
    func handleTimeout(now: Instant)
}

/// One thread, one epoll: descriptors in, timerfd for the earliest deadline, signalfd for
/// SIGINT/SIGTERM (clean shutdown). Nothing here knows any protocol.
public final class EventLoop {
    public enum Failure: Error { case epoll(Int32), timerfd(Int32), signalfd(Int32), wait(Int32) }

    let epoll: Int32
    let timer: Int32
    let signals: Int32
    var signalMask = sigset_t()
    /// Signals that call a handler instead of stopping the loop (SIGUSR1 as a button press).
    var signalHandlers: [(signal: Int32, handler: (Instant) -> Void)] = []
    var handlers: [(fd: Int32, handler: any ReadableHandler)] = []
    /// Descriptors unregistered while a batch of epoll events is dispatched: the batch's later
    /// events for that number are stale, even if a new socket took the number meanwhile.
    var closedInBatch: [Int32] = []
    var dispatching = false
    var timerClients: [any TimerClient] = []
    public private(set) var stopRequested = false
    /// The signal that stopped the loop, if any.
    public private(set) var stopSignal: Int32? = nil
    /// Wakeups of epoll_wait, for the idle-wakeup benchmark.
    public private(set) var wakeups = 0

    public init() throws(Failure) {
        let e = epoll_create1(ice_EPOLL_CLOEXEC)
        guard e >= 0 else { throw .epoll(ice_errno()) }
        let t = timerfd_create(clockid_t(ice_CLOCK_MONOTONIC), ice_TFD_CLOEXEC | ice_TFD_NONBLOCK)
        guard t >= 0 else { close(e); throw .timerfd(ice_errno()) }
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, ice_SIGINT)
        sigaddset(&mask, ice_SIGTERM)
        sigprocmask(ice_SIG_BLOCK, &mask, nil)
        let s = signalfd(-1, &mask, ice_SFD_CLOEXEC)
        guard s >= 0 else { close(e); close(t); throw .signalfd(ice_errno()) }
        signalMask = mask
        // A peer closing a socket we write to must not kill the daemon.
        ice_ignore_sigpipe()
        epoll = e
        timer = t
        signals = s
        try add(fd: t)
        try add(fd: s)
    }

    deinit {
        close(epoll)
        close(timer)
        close(signals)
    }

    func add(fd: Int32) throws(Failure) {
        var ev = epoll_event()
        ev.events = UInt32(ice_EPOLLIN)
        ev.data.fd = fd
        guard epoll_ctl(epoll, ice_EPOLL_CTL_ADD, fd, &ev) == 0 else { throw .epoll(ice_errno()) }
    }

    public func register(fd: Int32, _ handler: any ReadableHandler) throws(Failure) {
        try add(fd: fd)
        handlers.append((fd, handler))
    }

    /// Also (or no longer) wake `fd`'s handler when it can be written (a connecting socket).
    public func watchWritable(fd: Int32, _ on: Bool) {
        var ev = epoll_event()
        ev.events = UInt32(ice_EPOLLIN) | (on ? UInt32(ice_EPOLLOUT) : 0)
        ev.data.fd = fd
        _ = epoll_ctl(epoll, ice_EPOLL_CTL_MOD, fd, &ev)
    }

    public func unregister(fd: Int32) {
        var ev = epoll_event()
        _ = epoll_ctl(epoll, ice_EPOLL_CTL_DEL, fd, &ev)
        handlers.removeAll { $0.fd == fd }
        if dispatching { closedInBatch.append(fd) }
    }

    public func addTimerClient(_ c: any TimerClient) { timerClients.append(c) }
    public func removeTimerClient(_ c: any TimerClient) { timerClients.removeAll { $0 === c } }

    public func stop() { stopRequested = true }

    /// SIGUSR1, for `onSignal`.
    public static let userSignal1: Int32 = ice_SIGUSR1
    /// SIGUSR2, for `onSignal`.
    public static let userSignal2: Int32 = ice_SIGUSR2

    /// Delivers `signal` to `handler` on the loop (through the signalfd) instead of letting it
    /// stop or kill the process.
    public func onSignal(_ signal: Int32, _ handler: @escaping (Instant) -> Void) {
        sigaddset(&signalMask, signal)
        sigprocmask(ice_SIG_BLOCK, &signalMask, nil)
        if signalfd(signals, &signalMask, ice_SFD_CLOEXEC) < 0 {
            Log.warning("signalfd: cannot add signal \(signal) (errno \(ice_errno()))")
        }
        signalHandlers.append((signal, handler))
    }

    /// Runs until `stop()`, a signal, or `until` (monotonic) passes.
    public func run(until limit: Instant? = nil) throws(Failure) {
        var events = [epoll_event](repeating: epoll_event(), count: 32)
        while !stopRequested {
            var now = monotonicNow()
            fireTimers(now: now)
            if stopRequested { break }
            if let limit, now >= limit { break }
            var next = limit
            for c in timerClients {
                if let d = c.nextDeadline, next == nil || d < next! { next = d }
            }
            arm(next)
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if n < 0 {
                if ice_errno() == ice_EINTR { continue }
                throw .wait(ice_errno())
            }
            wakeups += 1
            now = monotonicNow()
            closedInBatch.removeAll(keepingCapacity: true)
            dispatching = true
            defer { dispatching = false }
            for i in 0..<Int(n) {
                let fd = events[i].data.fd
                if closedInBatch.contains(fd) { continue }
                if fd == timer {
                    var expirations: UInt64 = 0
                    _ = read(timer, &expirations, 8)
                } else if fd == signals {
                    var info = signalfd_siginfo()
                    _ = read(signals, &info, MemoryLayout<signalfd_siginfo>.size)
                    let signo = Int32(info.ssi_signo)
                    if let h = signalHandlers.first(where: { $0.signal == signo }) {
                        h.handler(now)
                    } else {
                        stopSignal = signo
                        stopRequested = true
                    }
                } else if let h = handlers.first(where: { $0.fd == fd }) {
                    let flags = events[i].events
                    if flags & UInt32(ice_EPOLLOUT) != 0 { h.handler.writable(now: now) }
                    if flags & (UInt32(ice_EPOLLIN) | UInt32(ice_EPOLLERR) | UInt32(ice_EPOLLHUP)) != 0 {
                        // The handler may have unregistered itself in writable().
                        if handlers.contains(where: { $0.fd == fd }) { h.handler.readable(now: now) }
                    }
                }
            }
        }
    }

    func fireTimers(now: Instant) {
        for c in timerClients {
            if let d = c.nextDeadline, d <= now {
                c.handleTimeout(now: now)
                // The deadline invariant: a client whose deadline stays due after its timeout
                // would make this loop spin at 100% CPU.
                assert(c.nextDeadline.map { $0 > now } ?? true, "EventLoop: a timer client is still due after handleTimeout")
            }
        }
    }

    /// Arms the timerfd at an absolute monotonic time, or disarms it.
    func arm(_ at: Instant?) {
        var spec = itimerspec()
        if let at {
            let ns = max(at.nanoseconds, 1)
            spec.it_value.tv_sec = time_t(ns / 1_000_000_000)
            spec.it_value.tv_nsec = Int(ns % 1_000_000_000)
        }
        _ = timerfd_settime(timer, ice_TFD_TIMER_ABSTIME, &spec, nil)
    }
}
