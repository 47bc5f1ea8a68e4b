import Common
import MDNS
import Runtime

/// Resolves the peer's ".local" host candidate names on the event loop (RFC 6762 §5.1
/// one-shot queries, draft-ietf-mmusic-mdns-ice-candidates §3.2.1): a socket of its own for
/// the queries and their unicast answers, a listener on the group for multicast answers, an
/// `MDNSResolution`, and results its owner polls. It holds no reference to its owner:
/// the owner, a `TimerClient` on the same loop, includes `resultDeadline` in its own
/// deadline and drains `pollResult()` then.
public final class MDNSResolver: TimerClient, ReadableHandler {
    public typealias Result = MDNSResolution<SystemRandom>.Event

    let loop: EventLoop
    let socket: UDPSocket
    /// Nil when the port could not be shared (another mDNS daemon without SO_REUSEADDR):
    /// unicast answers still arrive on `socket`.
    let listener: MDNSListener?
    var resolution: MDNSResolution<SystemRandom>
    var results = OwnerEvents<Result>()
    var buffer = [UInt8](repeating: 0, count: 9000)
    var closed = false
    /// Datagrams that did not parse as an mDNS response, and sends that failed: counted.
    public private(set) var malformedDatagrams = 0
    public private(set) var sendFailures = 0

    /// Opens the socket (`MDNSSocket.open(interface:)`) and the listener on `listenPort`
    /// (the group's port; nil: none), and joins `loop`.
    public init(loop: EventLoop, interface: IPAddress? = nil, listenPort: UInt16? = MDNSWire.port,
                configuration: MDNSResolution<SystemRandom>.Configuration = .init()) throws(MDNSResolverError) {
        self.loop = loop
        do throws(MDNSSocketError) { socket = try MDNSSocket.open(interface: interface) } catch { throw .socket(error) }
        var listener: MDNSListener? = nil
        if let listenPort {
            do throws(MDNSSocketError) { listener = try MDNSListener(port: listenPort, interface: interface) } catch {
                Log.warning("mDNS: no multicast answers (port \(listenPort)): \(error.description)")
            }
        }
        self.listener = listener
        resolution = MDNSResolution(configuration: configuration, random: SystemRandom())
        do throws(EventLoop.Failure) {
            try loop.register(fd: socket.descriptor, self)
            if let listener { try loop.register(fd: listener.descriptor, MDNSListenerReader(resolver: self, listener: listener)) }
        } catch {
            loop.unregister(fd: socket.descriptor)
            socket.close()
            listener?.close()
            throw .eventLoop(error)
        }
        loop.addTimerClient(self)
    }

    /// The local address unicast answers come to.
    public var localAddress: TransportAddress { socket.localAddress }

    /// Starts resolving `name` (its first queries leave now). A name already being resolved
    /// is left as it is; `.tooManyResolutions` when the resolution's table is full.
    public func resolve(_ name: MDNSName, now: Instant) throws(MDNSError) {
        guard !closed else { return }
        try resolution.start(name, now: now)
        flush(now: now)
    }

    public func cancel(_ name: MDNSName) { resolution.cancel(name) }

    /// When the owner must poll: a result has waited since then (nil: none waits).
    public var resultDeadline: Instant? { results.deadline }

    /// `.resolved(name, addresses)` or `.failed(name)`, oldest first.
    public func pollResult() -> Result? { results.pop() }

    public var nextDeadline: Instant? { resolution.nextDeadline }

    public func handleTimeout(now: Instant) {
        resolution.handleTimeout(now: now)
        flush(now: now)
    }

    public func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            var budget = readBudget
            while budget > 0, let (n, _) = (try? socket.tryReceive(into: buf)) ?? nil {
                budget -= 1
                handle(UnsafeRawBufferPointer(rebasing: buf[0..<n]), now: now)
            }
        }
        flush(now: now)
    }

    func handle(_ datagram: UnsafeRawBufferPointer, now: Instant) {
        do throws(MDNSError) { try resolution.handle(datagram: datagram, now: now) } catch {
            // Queries on the group (ours looped back, other hosts') are no answers, not malformed.
            if error != .notAResponse { malformedDatagrams += 1 }
        }
    }

    func listenerReadable(_ listener: MDNSListener, now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            var budget = readBudget
            while budget > 0, let n = listener.tryReceive(into: buf) {
                budget -= 1
                handle(UnsafeRawBufferPointer(rebasing: buf[0..<n]), now: now)
            }
        }
        flush(now: now)
    }

    /// Sends the queued queries and moves the resolution's events to the owner's queue.
    func flush(now: Instant) {
        while let t = resolution.pollTransmit() {
            t.bytes.withUnsafeBytes { b in
                do throws(SocketError) { try socket.send(b, to: t.destination) } catch {
                    sendFailures += 1
                    // Once: a host without a multicast route fails every query the same way.
                    if sendFailures == 1 { Log.warning("mDNS: cannot send to \(t.destination): \(error.description)") }
                }
            }
        }
        while let e = resolution.pollEvent() { results.push(e, now: now) }
    }

    /// Leaves the loop and releases the socket; pending names get no result.
    public func close() {
        guard !closed else { return }
        closed = true
        loop.removeTimerClient(self)
        loop.unregister(fd: socket.descriptor)
        socket.close()
        if let listener {
            loop.unregister(fd: listener.descriptor)
            listener.close()
        }
        resolution = MDNSResolution(configuration: resolution.configuration, random: SystemRandom())
    }
}

public enum MDNSResolverError: Error {
    case socket(MDNSSocketError)
    case eventLoop(EventLoop.Failure)

    public var description: String {
        switch self {
        case .socket(let e): return e.description
        case .eventLoop: return "cannot register the mDNS socket with the event loop"
        }
    }
}

/// Reads the group listener for its resolver (a separate handler: the loop wakes one
/// handler per descriptor).
final class MDNSListenerReader: ReadableHandler {
    let resolver: MDNSResolver
    let listener: MDNSListener
    init(resolver: MDNSResolver, listener: MDNSListener) {
        self.resolver = resolver
        self.listener = listener
    }
    func readable(now: Instant) { resolver.listenerReadable(listener, now: now) }
}
