import Common
import Connectivity
import RTP
import Runtime

extension Session {
    /// Media the connection accepted from the peer goes to `--rtp-out`; the rest is counted.
    func mediaFromPeer(_ inbound: Inbound, _ bytes: UnsafeRawBufferPointer, now: Instant) {
        switch inbound {
        case .consumed:
            return
        case .unknownSource:
            droppedUnknownSource += 1
        case .media(_, _, let range):
            relayFromPeer(UnsafeRawBufferPointer(rebasing: bytes[range]), now: now)
        }
    }

    func relayFromPeer(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        switch PacketKind.classify(bytes) {
        case .rtp:
            guard let h = try? RTPHeader(parsing: bytes) else {
                fromPeer.recordInvalid()
                return
            }
            fromPeer.recordRTP(h, size: bytes.count, now: now)
        case .rtcp:
            fromPeer.recordRTCP(size: bytes.count, now: now)
        default:
            droppedNotRTP += 1
            return
        }
        if let rtpOut, let outSocket { try? outSocket.send(bytes, to: rtpOut) }
    }

    /// RTP from the local pipeline: forward over the selected pair.
    func relayToPeer(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        let kind = PacketKind.classify(bytes)
        var header: RTPHeader? = nil
        switch kind {
        case .rtp:
            guard let h = try? RTPHeader(parsing: bytes) else {
                toPeer.recordInvalid()
                return
            }
            header = h
        case .rtcp:
            break
        default:
            toPeer.recordInvalid()
            return
        }
        switch connection.sendMedia(bytes, now: now) {
        case .noPair:
            droppedNoPair += 1
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
        if let header { toPeer.recordRTP(header, size: bytes.count, now: now) } else { toPeer.recordRTCP(size: bytes.count, now: now) }
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
