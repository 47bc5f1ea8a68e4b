import Common
import Connectivity
import ICE
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

    /// Media from the peer (RFC 7983: RTP or RTCP by its first byte, from a proven source),
    /// in the reader's buffer: unprotected in place (SRTP), renumbered for the pipeline, and
    /// forwarded to `--rtp-out`.
    func fromPeer(_ packet: UnsafeMutableRawBufferPointer, now: Instant) {
        guard let n = connection.unprotectMedia(packet) else { return }
        let clear = UnsafeMutableRawBufferPointer(rebasing: packet[0..<n])
        mediaRelay.rewritePayloadType(clear, toWire: false)
        mediaRelay.forward(UnsafeRawBufferPointer(clear), now: now)
    }

    /// RTP from the local pipeline, `length` bytes at the start of `buffer` (the reader's own,
    /// with room for the SRTP tag): renumbered for the peer, protected in place, and sent over
    /// the selected pair, from its base socket or through its relay (`Connection.sendMedia`).
    func relayToPeer(_ buffer: UnsafeMutableRawBufferPointer, length: Int, now: Instant) {
        let (send, header) = mediaRelay.outgoing(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        guard send else { return }
        guard connection.agent.selectedPair() != nil else {
            mediaRelay.noPair()
            return
        }
        mediaRelay.rewritePayloadType(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), toWire: true)
        guard let protected = connection.protectMedia(buffer, length: length) else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<protected])
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
        mediaRelay.sent(header, size: length, now: now)
    }
}

/// Reads the RTP ingress port until it would block.
final class IngressReader: ReadableHandler {
    let session: Session
    let socket: UDPSocket
    var buffer = [UInt8](repeating: 0, count: 2048 + IngressReader.tagRoom)
    /// The most SRTCP adds (index and the longest tag, RFC 3711 §3.4, RFC 7714 §9).
    static let tagRoom = 32
    init(session: Session, socket: UDPSocket) {
        self.session = session
        self.socket = socket
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            var budget = readBudget
            // What the pipeline sends fits one datagram with room for the SRTP tag behind it.
            let room = UnsafeMutableRawBufferPointer(rebasing: buf[0..<(buf.count - IngressReader.tagRoom)])
            while budget > 0, let (n, _) = (try? socket.tryReceive(into: room)) ?? nil {
                budget -= 1
                session.relayToPeer(buf, length: n, now: now)
            }
        }
    }
}
