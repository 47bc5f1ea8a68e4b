import Common
import Connectivity
import Daemon
import ICE
import Runtime
import TURN

/// `ice-agent turn allocate` on the event loop: a relay-only `Connection` with one relay (the
/// same type the daemon drives), its socket or stream connection, and the echo exchange with
/// `--peer` through the relay's client: permission, Send indication, channel, ChannelData.
/// The first failure ends the run (exit status 1): a tool reports, it does not retry.
final class TurnAllocation: TimerClient, ReadableHandler {
    /// Where the peer exchange is.
    enum Stage {
        case connecting, allocating, holding(until: Instant), permission, indicationEcho, channel, channelEcho, closing, done
    }

    let command: TurnCommand
    let connection: Connection<SystemRandom>
    let loop: EventLoop
    let tls: TLSClientConfiguration?
    let socket: UDPSocket?
    var stream: TURNStreamConnection? = nil
    var watchingWrite = false
    var stage: Stage
    var status: Int32 = 0
    let payload: [UInt8]
    var giveUp = Instant.zero
    var buffer = [UInt8](repeating: 0, count: 65536)

    init(command: TurnCommand, relay: RelayServer, tls: TLSClientConfiguration?, socket: UDPSocket?, loop: EventLoop) {
        self.command = command
        self.loop = loop
        self.tls = tls
        self.socket = socket
        var random = SystemRandom()
        var config = AgentConfiguration()
        config.role = .controlled
        connection = Connection(agent: Agent(configuration: config, random: random.split()), random: random, relayOnly: true)
        connection.addRelay(relay, base: socket?.localAddress)
        // 37 bytes: not a multiple of 4, so ChannelData over TCP/TLS needs its padding both ways.
        payload = Array(("ice-agent turn echo " + hexString(random.next()) + ".").utf8)
        stage = socket == nil ? .connecting : .allocating
    }

    var client: TURNClient<SystemRandom> { connection.relays[0].client }

    func run() -> Int32 {
        let start = monotonicNow()
        giveUp = start + command.timeout
        if let socket {
            do throws(EventLoop.Failure) { try loop.register(fd: socket.descriptor, self) } catch {
                printError("ice-agent: cannot watch the socket")
                return 1
            }
        }
        loop.addTimerClient(self)
        connection.start(now: start)
        pump(now: start)
        if case .done = stage {} else {
            do throws(EventLoop.Failure) { try loop.run() } catch {
                printError("ice-agent: event loop failed")
                return 1
            }
        }
        if let socket { loop.unregister(fd: socket.descriptor) }
        if let stream {
            stream.close()
            loop.unregister(fd: stream.descriptor)
        }
        loop.removeTimerClient(self)
        let c = client.counters
        printError("stale-nonce-retries: \(c.staleNonceRetries) retransmits: \(c.retransmits) dropped: \(c.malformed + c.unauthenticated + c.unknownTransaction)")
        return status
    }

    func finish(_ code: Int32) {
        if code != 0 { status = code }
        stage = .done
        loop.stop()
    }

    // MARK: Event loop

    var nextDeadline: Instant? {
        if case .done = stage { return nil }
        var d = giveUp
        if let c = connection.nextDeadline, c < d { d = c }
        if let s = stream?.deadline, s < d { d = s }
        if case .holding(let until) = stage, until < d { d = until }
        return d
    }

    func handleTimeout(now: Instant) {
        // The connection's own connect or handshake timeout names what stalled; it shares
        // the deadline of `--timeout` when that is shorter, so it goes first.
        if let stream {
            stream.handleTimeout(now: now)
            serviceStream(stream, now: now)
            if case .done = stage { return }
        }
        if now >= giveUp {
            let what: String
            switch stream?.phase {
            case .connecting?: what = "connecting"
            case .handshaking?: what = "TLS handshake"
            default: what = "state " + "\(client.state.name)"
            }
            printError("ice-agent: timed out (" + what + ")")
            finish(1)
            return
        }
        if case .holding(let until) = stage, now >= until { usePeer(now) }
        connection.handleTimeout(now: now)
        pump(now: now)
    }

    /// The UDP socket, or the stream connection's descriptor.
    func readable(now: Instant) {
        if let stream {
            stream.readable(now: now) { frame in
                let channels = client.counters.channelDataReceived
                let inbound = connection.handle(streamFrame: frame, relay: 0, now: now)
                received(inbound, frame, viaChannel: client.counters.channelDataReceived > channels, now: now)
            }
            serviceStream(stream, now: now)
        } else if let socket {
            buffer.withUnsafeMutableBytes { buf in
                while case .some(.some(let (n, from))) = try? socket.tryReceive(into: buf) {
                    let bytes = UnsafeRawBufferPointer(rebasing: buf[0..<n])
                    let channels = client.counters.channelDataReceived
                    let inbound = connection.handle(datagram: bytes, from: from, to: socket.localAddress, now: now)
                    received(inbound, bytes, viaChannel: client.counters.channelDataReceived > channels, now: now)
                }
            }
        }
        pump(now: now)
    }

    func writable(now: Instant) {
        guard let stream else { return }
        stream.writable(now: now)
        serviceStream(stream, now: now)
        pump(now: now)
    }

    // MARK: The connection

    /// Sends what the connection queued and acts on its events.
    func pump(now: Instant) {
        while true {
            if case .done = stage { return }
            while let t = connection.pollTransmit() {
                switch t.route {
                case .socket:
                    do throws(SocketError) { try socket?.send(t.bytes, to: t.destination) } catch {
                        // ICMP errors (port unreachable) surface here; retransmissions cover it.
                        printError("ice-agent: " + error.description)
                    }
                case .stream:
                    stream?.send(t.bytes)
                }
            }
            updateWriteInterest()
            guard let e = connection.pollEvent() else { return }
            handle(e, now: now)
        }
    }

    func handle(_ e: ConnectionEvent, now: Instant) {
        switch e {
        case .openStream(_, let server, let serverName):
            openStream(server: server, serverName: serverName, now: now)
        case .relayAllocated(_, let relayed, let lifetime):
            print("relayed: " + relayed.description)
            if let mapped = client.mappedAddress { print("mapped: " + mapped.description) }
            printError("lifetime: \(lifetime.milliseconds / 1000) s")
            if command.hold.nanoseconds > 0 {
                stage = .holding(until: now + command.hold)
            } else {
                usePeer(now)
            }
        case .relayRedirected(_, let to):
            printError("redirected to " + to.description)
        case .relayFailed(_, let f, _):
            if case .closing = stage, f == .connectionLost {
                // The server may close first once the allocation is deleted.
                finish(0)
            } else {
                printError("ice-agent: turn allocate failed: " + f.description)
                finish(1)
            }
        case .relayTableFull(_, let table):
            printError("ice-agent: table full: " + "\(table.name)")
        case .relay(_, let event):
            relayEvent(event, now: now)
        default:
            break
        }
    }

    func relayEvent(_ e: TURNEvent, now: Instant) {
        switch e {
        case .refreshed(let lifetime):
            printError("refreshed: \(lifetime.milliseconds / 1000) s")
        case .permissionCreated(let ip):
            printError("permission: " + ip.description)
            if case .permission = stage {
                stage = .indicationEcho
                if !sendPayload(now) { close(1, now) }
            }
        case .permissionFailed(let ip, let f):
            printError("ice-agent: permission for " + ip.description + " failed: " + f.description)
            close(1, now)
        case .channelBound(let p, let number):
            printError("channel: " + hexUInt16(number) + " -> " + p.description)
            if case .channel = stage {
                stage = .channelEcho
                if !sendPayload(now) { close(1, now) }
            }
        case .channelBindFailed(let p, let f):
            printError("ice-agent: channel to " + p.description + " failed: " + f.description)
            close(1, now)
        case .deallocated:
            printError("deallocated")
            finish(0)
        default:
            break
        }
    }

    // MARK: The echo exchange

    func usePeer(_ now: Instant) {
        guard let peer = command.peer else {
            close(0, now)
            return
        }
        do throws(TURNError) {
            try client.createPermission(peer: peer, now: now)
            stage = .permission
        } catch {
            printError("ice-agent: CreatePermission: " + "\(error.name)")
            close(1, now)
        }
    }

    func sendPayload(_ now: Instant) -> Bool {
        guard let peer = command.peer else { return false }
        let error: TURNError? = payload.withUnsafeBytes { raw in
            do throws(TURNError) {
                try client.send(raw, to: peer, now: now)
                return nil
            } catch { return error }
        }
        if let error {
            printError("ice-agent: sending through the relay failed: " + "\(error.name)")
            return false
        }
        return true
    }

    /// Relayed data: the peer's echo moves the exchange on. (It is not media of a call, so the
    /// connection reports it as from an unknown source.)
    func received(_ inbound: Inbound, _ bytes: UnsafeRawBufferPointer, viaChannel: Bool, now: Instant) {
        guard case .unknownSource(let source, _, let range) = inbound, source == command.peer,
              payload.withUnsafeBytes({ UnsafeRawBufferPointer(rebasing: bytes[range]).bytesEqual($0) })
        else { return }
        switch stage {
        case .indicationEcho:
            printError("echo via send/data indication: ok")
            do throws(TURNError) {
                try client.bindChannel(peer: command.peer!, now: now)
                stage = .channel
            } catch {
                printError("ice-agent: ChannelBind: " + "\(error.name)")
                close(1, now)
            }
        case .channelEcho where viaChannel:
            printError("echo via channel: ok")
            print("echo: ok")
            close(0, now)
        default:
            break
        }
    }

    /// Deallocates (Refresh LIFETIME 0) and waits for the answer.
    func close(_ code: Int32, _ now: Instant) {
        if code != 0 { status = code }
        stage = .closing
        connection.close(now: now)
        if client.state == .closed { finish(code) }
    }

    // MARK: The stream connection (TCP, TLS)

    func openStream(server: TransportAddress, serverName: String, now: Instant) {
        if let old = stream {
            old.close()
            loop.unregister(fd: old.descriptor)
            stream = nil
        }
        let timeout = command.timeout < TURNStreamConnection.defaultTimeout ? command.timeout : TURNStreamConnection.defaultTimeout
        do throws(RelayTransportError) {
            let c = try TURNStreamConnection(server: server, transport: command.uri.transport, tls: tls, serverName: serverName,
                                             now: now, timeout: timeout)
            do throws(EventLoop.Failure) { try loop.register(fd: c.descriptor, self) } catch {
                printError("ice-agent: cannot watch the connection")
                finish(1)
                return
            }
            stream = c
            watchingWrite = false
            stage = .connecting
        } catch {
            printError("ice-agent: turn allocate failed: " + error.description)
            finish(1)
        }
    }

    func serviceStream(_ c: TURNStreamConnection, now: Instant) {
        while let e = c.pollEvent() {
            switch e {
            case .opened:
                printError("connected: " + "\(command.uri.transport.name)" + " to " + c.server.description)
                stage = .allocating
                connection.streamOpened(relay: 0, now: now)
            case .failed(let error):
                if case .closing = stage {
                    connection.streamFailed(relay: 0, now: now)
                    finish(status)
                } else {
                    printError("ice-agent: turn allocate failed: " + error.description)
                    finish(1)
                }
            }
        }
    }

    func updateWriteInterest() {
        guard let stream else { return }
        let want = stream.wantsWrite
        if want != watchingWrite {
            loop.watchWritable(fd: stream.descriptor, want)
            watchingWrite = want
        }
    }
}
