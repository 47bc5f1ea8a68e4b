import CLinux
import Common
import NATBehavior
import Runtime

/// RFC 5780 §4 behaviour discovery on the event loop: the sans-IO `NATBehaviorDiscovery` fed
/// the datagrams of two UDP sockets of its own and the loop's timer. Its own sockets, not the
/// call's: its CHANGE-REQUESTs and hairpin probe (§4.3-§4.5) would be stray traffic to ICE,
/// and its mapping is the NAT's behaviour all the same when the NAT is consistent (RFC 4787
/// REQ-1). Once decided it leaves the loop, closes its sockets and calls `decided`.
public final class NATTypeProbe: TimerClient, ReadableHandler {
    public private(set) var discovery: NATBehaviorDiscovery<SystemRandom>
    public var outcome: DiscoveryOutcome { discovery.outcome }
    public var server: TransportAddress { discovery.configuration.server }
    /// Called once, on the loop, when the outcome is known.
    public var decided: ((DiscoveryOutcome) -> Void)?
    let sockets: [UDPSocket]
    let loop: EventLoop
    var buffer = [UInt8](repeating: 0, count: 2048)
    var closed = false

    /// Two sockets on the server's family (socket 0's port joins each of `localIPs` to tell
    /// "no NAT", §4.3), registered on `loop`; the first request goes out at once.
    public init(configuration template: DiscoveryConfiguration, localIPs: [IPAddress], loop: EventLoop) throws(SocketError) {
        let wildcard = TransportAddress(template.server.ip.isIPv4 ? .v4Any : .v6(0, 0), 0)
        let first = try UDPSocket(bind: wildcard)
        let second: UDPSocket
        do throws(SocketError) { second = try UDPSocket(bind: wildcard) } catch {
            first.close()
            throw error
        }
        var configuration = template
        configuration.localAddresses = []
        for ip in localIPs.prefix(DiscoveryConfiguration.maxLocalAddresses) {
            configuration.localAddresses.append(TransportAddress(ip, first.localAddress.port))
        }
        sockets = [first, second]
        self.loop = loop
        discovery = NATBehaviorDiscovery(configuration: configuration, random: SystemRandom(), now: monotonicNow())
        for s in sockets {
            do throws(EventLoop.Failure) { try loop.register(fd: s.descriptor, self) } catch {
                close()
                throw .poll(ice_errno())
            }
        }
        loop.addTimerClient(self)
        flush()
    }

    public var nextDeadline: Instant? { closed ? nil : discovery.nextDeadline }

    public func handleTimeout(now: Instant) {
        guard !closed else { return }
        discovery.handleTimeout(now: now)
        flush()
    }

    public func readable(now: Instant) {
        guard !closed else { return }
        for (index, socket) in sockets.enumerated() {
            guard let local = LocalSocket(rawValue: index) else { continue }
            buffer.withUnsafeMutableBytes { buf in
                while discovery.outcome == .running, case .some(.some(let (n, from))) = try? socket.tryReceive(into: buf) {
                    discovery.handle(datagram: UnsafeRawBufferPointer(rebasing: buf[0..<n]), from: from, on: local, now: now)
                }
            }
        }
        flush()
    }

    /// Leaves the loop and closes the sockets (the outcome stays). Safe to call twice.
    public func close() {
        guard !closed else { return }
        closed = true
        for s in sockets {
            loop.unregister(fd: s.descriptor)
            s.close()
        }
        loop.removeTimerClient(self)
    }

    /// Sends what the discovery asks for; once it decided, closes and reports.
    func flush() {
        buffer.withUnsafeMutableBytes { buf in
            while let t = discovery.pollTransmit(into: buf) {
                do throws(SocketError) {
                    try sockets[t.socket.rawValue].send(UnsafeRawBufferPointer(rebasing: buf[0..<t.count]), to: t.destination)
                } catch {
                    // ICMP errors (port unreachable) surface here; the discovery's timers treat
                    // them as loss.
                    Log.debug("nat-type: \(error.description)")
                }
            }
        }
        guard discovery.outcome != .running, !closed else { return }
        close()
        decided?(discovery.outcome)
    }
}
