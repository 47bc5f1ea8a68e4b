import Common
import Runtime
import TURN

/// Why a TCP or TLS connection to a TURN server failed or ended. Each one ends the allocation
/// on it (RFC 8656 §3.1); the owner decides whether to try again.
public enum RelayTransportError: Error, Equatable {
    /// socket() or connect() failed at once (errno).
    case socket(SocketError)
    /// The connection attempt failed (errno from SO_ERROR: refused, unreachable, ...).
    case connectFailed(Int32)
    /// No TCP connection within the connect timeout.
    case connectTimeout
    /// The TLS handshake failed: certificate (with mbedTLS's verify flags), alert, protocol.
    case tls(TLSError)
    /// The server accepted the TCP connection but did not finish the TLS handshake in time.
    case handshakeTimeout
    /// The server closed the connection (end of stream or TLS close_notify).
    case closedByServer
    /// Reading or writing the socket failed (errno).
    case io(Int32)
    /// The server sent bytes that are neither STUN nor ChannelData: no resynchronising a stream.
    case framing(StreamFramingError)

    public var description: String {
        switch self {
        case .socket(let e): return e.description
        case .connectFailed(let e): return "TCP connect failed: " + errnoText(e)
        case .connectTimeout: return "TCP connect timed out"
        case .tls(let e): return e.description
        case .handshakeTimeout: return "TLS handshake timed out"
        case .closedByServer: return "the server closed the connection"
        case .io(let e): return "connection failed: " + errnoText(e)
        case .framing(let e): return "bad data from the server (" + e.name.description + ")"
        }
    }
}

/// What a `TURNStreamConnection` reports, polled after each call on it.
public enum RelayConnectionEvent: Equatable {
    /// TCP connected (and, for TLS, the handshake and certificate check passed): start the
    /// TURN client now.
    case opened
    /// Final: the connection is unusable; unregister it from the event loop and drop it.
    case failed(RelayTransportError)
}

/// One TCP or TLS connection to a TURN server (RFC 8656 §3.1; RFC 7065 `?transport=tcp`,
/// `turns:`), driven non-blocking: by the event loop in the daemon, by poll in
/// `ice-agent turn allocate`. It owns the socket, the TLS session, the receive-side
/// `StreamReassembler` (frames by STUN and ChannelData length) and a bounded send buffer that
/// only ever holds whole frames. The connect and the TLS handshake together must finish
/// within `timeout`, so a server that accepts and then stalls is a typed error, not a hang.
///
///     let c = try TURNStreamConnection(server:transport:tls:serverName:now:)
///     // register c.descriptor; watch writability while c.wantsWrite
///     c.writable(now:) / c.readable(now:) { frame in client.handle(packet: frame, ...) }
///     c.handleTimeout(now:) at c.deadline
///     while let e = c.pollEvent() { ... }   // .opened: client.start; .failed: drop it
///     c.send(frameBytes)                    // TURN transmits
public final class TURNStreamConnection {
    public enum Phase: Equatable {
        case connecting, handshaking, open, failed, closed
    }

    /// Connect plus TLS handshake.
    public static let defaultTimeout = Interval.seconds(10)
    /// Bytes queued for a slow server before frames are dropped (whole frames only).
    public static let sendBufferSize = 128 * 1024

    public let server: TransportAddress
    public let transport: TURNTransport
    public private(set) var phase: Phase = .connecting
    public private(set) var failure: RelayTransportError? = nil
    /// When the connect or handshake times out; nil once open.
    public private(set) var deadline: Instant?
    /// Frames dropped because the send buffer was full.
    public private(set) var droppedFrames = 0
    public var descriptor: Int32 { stream.descriptor }

    let stream: TCPStream
    let tlsConfiguration: TLSClientConfiguration?
    let serverName: String
    var tls: TLSConnection? = nil
    let reassembler: StreamReassembler
    let outbox: ByteQueue
    /// Length of a TLS write that returned "would block": repeated with the same bytes.
    var pendingTLSWrite = 0
    var events: [RelayConnectionEvent] = []

    /// Starts connecting. `tls` and `serverName` are needed for `.tls` (the name is SNI and
    /// what the certificate must match: the URI's host, not the resolved address).
    public init(server: TransportAddress, transport: TURNTransport, tls: TLSClientConfiguration?, serverName: String,
                now: Instant, timeout: Interval = TURNStreamConnection.defaultTimeout) throws(RelayTransportError) {
        precondition(transport.isStream, "TURNStreamConnection is for TCP and TLS")
        precondition(transport != .tls || tls != nil, "TLS needs a TLSClientConfiguration")
        self.server = server
        self.transport = transport
        self.tlsConfiguration = tls
        self.serverName = serverName
        do throws(SocketError) {
            stream = try TCPStream.startConnect(to: server)
        } catch {
            if case .connect(let e) = error { throw .connectFailed(e) }
            throw .socket(error)
        }
        // Room for the largest STUN message (20 + 65535) or ChannelData frame (4 + 65535 + 3).
        reassembler = StreamReassembler(capacity: 20 + 0xFFFF + 3)
        outbox = ByteQueue(capacity: TURNStreamConnection.sendBufferSize)
        events.reserveCapacity(4)
        deadline = now + timeout
    }

    public func pollEvent() -> RelayConnectionEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Whether the socket must be watched for writability: connecting, a TLS handshake or
    /// write waiting for room, or queued bytes.
    public var wantsWrite: Bool {
        switch phase {
        case .connecting: return true
        case .handshaking: return tls?.wantsWrite ?? false
        case .open: return !outbox.isEmpty || (pendingTLSWrite > 0 && tls?.wantsWrite == true)
        case .failed, .closed: return false
        }
    }

    public var isOpen: Bool { phase == .open }

    // MARK: Readiness

    public func writable(now: Instant) {
        switch phase {
        case .connecting: finishConnect(now: now)
        case .handshaking: continueHandshake(now: now)
        case .open: flush()
        case .failed, .closed: break
        }
    }

    /// Reads what has arrived and hands each complete frame (STUN message or ChannelData
    /// without its padding) to `deliver`, a view valid during the call only.
    public func readable(now: Instant, _ deliver: (UnsafeRawBufferPointer) -> Void) {
        switch phase {
        case .connecting:
            // A failed connect wakes readers too (EPOLLERR/EPOLLHUP).
            finishConnect(now: now)
        case .handshaking:
            continueHandshake(now: now)
            // Application data may follow the handshake in the same read.
            if phase == .open { readFrames(deliver) }
        case .open:
            readFrames(deliver)
            // A TLS write that waited for a read (renegotiation) may go on now.
            if pendingTLSWrite > 0 { flush() }
        case .failed, .closed:
            break
        }
    }

    public func handleTimeout(now: Instant) {
        guard let deadline, now >= deadline else { return }
        switch phase {
        case .connecting: fail(.connectTimeout)
        case .handshaking: fail(.handshakeTimeout)
        default: self.deadline = nil
        }
    }

    // MARK: Sending

    /// Queues one frame (a TURN transmit) and writes what the socket takes. False when the
    /// connection is not open or the buffer cannot hold the whole frame (it is dropped and
    /// counted: a partial frame would corrupt the stream).
    @discardableResult
    public func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard phase == .open, !frame.isEmpty else { return false }
        guard outbox.append(frame) else {
            droppedFrames += 1
            return false
        }
        flush()
        return true
    }

    /// Writes queued bytes until the socket is full.
    func flush() {
        while phase == .open && !outbox.isEmpty {
            if let tls {
                // mbedTLS wants the same bytes again after WANT_WRITE; the queue's front does
                // not move until they are consumed.
                let length = pendingTLSWrite > 0 ? pendingTLSWrite : min(outbox.count, 16384)
                let chunk = UnsafeRawBufferPointer(rebasing: outbox.pending[0..<length])
                do throws(TLSError) {
                    guard let n = try tls.write(chunk) else {
                        pendingTLSWrite = length
                        return
                    }
                    pendingTLSWrite = 0
                    outbox.consume(n)
                } catch {
                    fail(error == .closed ? .closedByServer : .tls(error))
                    return
                }
            } else {
                let chunk = outbox.pending
                do throws(SocketError) {
                    let n = try stream.send(chunk)
                    outbox.consume(n)
                    if n < chunk.count { return }
                } catch {
                    if case .send(let e) = error { fail(.io(e)) } else { fail(.io(0)) }
                    return
                }
            }
        }
    }

    // MARK: Connect and handshake

    func finishConnect(now: Instant) {
        let e = stream.connectError()
        guard e == 0 else {
            fail(.connectFailed(e))
            return
        }
        guard transport == .tls, let tlsConfiguration else {
            open()
            return
        }
        do throws(TLSError) {
            tls = try TLSConnection(configuration: tlsConfiguration, descriptor: stream.descriptor, serverName: serverName)
        } catch {
            fail(.tls(error))
            return
        }
        phase = .handshaking
        continueHandshake(now: now)
    }

    func continueHandshake(now: Instant) {
        guard let tls else { return }
        do throws(TLSError) {
            if try tls.handshake() { open() }
        } catch {
            fail(.tls(error))
        }
    }

    func open() {
        phase = .open
        deadline = nil
        events.append(.opened)
    }

    // MARK: Receiving

    func readFrames(_ deliver: (UnsafeRawBufferPointer) -> Void) {
        // A bounded number of reads per wakeup (the loop is level-triggered), but never leave
        // decrypted bytes inside mbedTLS: the socket would not wake us for them.
        var budget = 32
        while phase == .open && (budget > 0 || (tls?.bytesAvailable ?? 0) > 0) {
            budget -= 1
            let space = reassembler.writableSpace()
            let received: Int?
            if let tls {
                do throws(TLSError) {
                    received = try tls.read(into: space)
                } catch {
                    fail(error == .closed ? .closedByServer : .tls(error))
                    return
                }
            } else {
                do throws(SocketError) {
                    received = try stream.receive(into: space)
                } catch {
                    if case .receive(let e) = error { fail(.io(e)) } else { fail(.io(0)) }
                    return
                }
            }
            guard let n = received else { return }
            if n == 0 {
                fail(.closedByServer)
                return
            }
            reassembler.commit(n)
            do throws(StreamFramingError) {
                while phase == .open, let frame = try reassembler.nextFrame() { deliver(frame.bytes) }
            } catch {
                fail(.framing(error))
                return
            }
        }
    }

    // MARK: Ending

    func fail(_ e: RelayTransportError) {
        guard phase != .failed && phase != .closed else { return }
        phase = .failed
        failure = e
        deadline = nil
        outbox.removeAll()
        events.append(.failed(e))
    }

    /// Ends the connection from our side (close_notify for TLS); the socket closes when the
    /// object goes. Reports nothing.
    public func close() {
        guard phase != .failed && phase != .closed else { return }
        if phase == .open { tls?.closeNotify() }
        phase = .closed
        deadline = nil
    }
}
