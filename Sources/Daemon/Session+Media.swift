import Common
import Connectivity
import RTP
import Runtime

extension Session {
    public var rtpIn: UDPSocket? { mediaRelay.rtpIn }
    public var toPeer: StreamCounters { mediaRelay.toPeer }
    public var fromPeer: StreamCounters { mediaRelay.fromPeer }
    public var droppedUnknownSource: Int { mediaRelay.droppedUnknownSource }
    public var droppedNotRTP: Int { mediaRelay.droppedNotRTP }
    public var droppedNoPair: Int { mediaRelay.droppedNoPair }

    /// Binds the media ports and reads `--rtp-in` on the loop.
    public func attachMedia(rtpIn inAddress: TransportAddress?, rtpOut out: TransportAddress?) throws(SessionError) {
        try mediaRelay.attach(rtpIn: inAddress, rtpOut: out)
        if let s = mediaRelay.rtpIn { try? loop.register(fd: s.descriptor, IngressReader(session: self, socket: s)) }
    }

    /// RTP from the local pipeline: over the selected pair, from its base socket or through
    /// its relay (`Connection.sendMedia`).
    func relayToPeer(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        let (send, header) = mediaRelay.outgoing(bytes)
        guard send else { return }
        switch connection.sendMedia(bytes, now: now) {
        case .noPair:
            mediaRelay.noPair()
            return
        case .refused:
            Log.debug("\(name): relay refused media")
            return
        case .direct(let source, let destination):
            guard let s = socket(bound: source) else { return }
            pcap?.record(bytes, from: source, to: destination)
            do throws(SocketError) { try s.send(bytes, to: destination) } catch {
                Log.debug("\(name): send to \(destination) failed: \(error.description)")
            }
        case .relayed:
            sendTransmits()
        }
        mediaRelay.sent(header, size: bytes.count, now: now)
    }
}

/// Reads the RTP ingress port until it would block.
final class IngressReader: ReadableHandler {
    let session: Session
    let socket: UDPSocket
    var buffer = [UInt8](repeating: 0, count: 2048)
    init(session: Session, socket: UDPSocket) {
        self.session = session
        self.socket = socket
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            var budget = readBudget
            while budget > 0, let (n, _) = (try? socket.tryReceive(into: buf)) ?? nil {
                budget -= 1
                session.relayToPeer(UnsafeRawBufferPointer(rebasing: buf[0..<n]), now: now)
            }
        }
    }
}
