import Common
import Connectivity
import RTP
import Runtime

/// The media of one session: RTP and RTCP from the local pipeline (`--rtp-in`) go to the
/// peer, and what the peer sends goes to `--rtp-out` (intercom speaker, recorder), each
/// checked (RFC 7983 first byte, RFC 3550 header) and counted. Where media to the peer goes
/// (a base socket or a relay) is the session's business; this part only decides whether a
/// packet is media at all.
public final class MediaRelay {
    /// RTP from the local camera pipeline arrives here.
    public internal(set) var rtpIn: UDPSocket?
    /// RTP from the peer goes here.
    var rtpOut: TransportAddress?
    var outSocket: UDPSocket?
    public internal(set) var toPeer = StreamCounters()
    public internal(set) var fromPeer = StreamCounters()
    /// Not STUN, from an address no pair vouches for.
    public internal(set) var droppedUnknownSource = 0
    /// From the peer's address, but neither RTP nor RTCP.
    public internal(set) var droppedNotRTP = 0
    /// Local media that arrived while no pair was selected (nowhere to send it).
    public internal(set) var droppedNoPair = 0
    /// Per track, the pipeline's payload type and the one the peer numbered the codec with
    /// (RFC 3264 §6.1), where they differ: RTP is rewritten on the way out and back.
    var payloadTypes: [(pipeline: UInt8, wire: UInt8)] = []

    init() {}

    /// Binds the media ports.
    func attach(rtpIn inAddress: TransportAddress?, rtpOut out: TransportAddress?) throws(SessionError) {
        if let inAddress {
            do throws(SocketError) { rtpIn = try UDPSocket(bind: inAddress) } catch {
                throw .mediaBind(inAddress, error.description)
            }
        }
        if let out {
            rtpOut = out
            do throws(SocketError) {
                outSocket = try UDPSocket(bind: TransportAddress(out.ip.isIPv4 ? .v4Any : .v6(0, 0), 0))
            } catch {
                throw .mediaBind(out, error.description)
            }
        }
    }

    /// Closes the ports now, not when the last reference goes: the next call binds them at once.
    func detach() {
        rtpIn = nil
        outSocket = nil
    }

    /// A datagram the connection did not take as media: counted when it came from nowhere
    /// a pair vouches for.
    func fromPeer(_ inbound: Inbound) {
        if case .unknownSource = inbound { droppedUnknownSource += 1 }
    }

    /// RFC 3264 §6.1: the peer numbers the codec; the pipeline keeps its own number. The
    /// marker bit stays.
    func rewritePayloadType(_ packet: UnsafeMutableRawBufferPointer, toWire: Bool) {
        guard !payloadTypes.isEmpty, packet.count >= 2, PacketKind.classify(UnsafeRawBufferPointer(packet)) == .rtp else {
            return
        }
        let pt = packet[1] & 0x7F
        for (pipeline, wire) in payloadTypes {
            let (from, to) = toWire ? (pipeline, wire) : (wire, pipeline)
            if pt == from {
                packet[1] = packet[1] & 0x80 | to
                return
            }
        }
    }

    func forward(_ bytes: UnsafeRawBufferPointer, now: Instant) {
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

    /// Whether a packet from the local pipeline is RTP or RTCP worth sending; its header, for
    /// counting once it went (nil for RTCP). Anything else is counted as invalid.
    func outgoing(_ bytes: UnsafeRawBufferPointer) -> (send: Bool, header: RTPHeader?) {
        switch PacketKind.classify(bytes) {
        case .rtp:
            guard let h = try? RTPHeader(parsing: bytes) else {
                toPeer.recordInvalid()
                return (false, nil)
            }
            return (true, h)
        case .rtcp:
            return (true, nil)
        default:
            toPeer.recordInvalid()
            return (false, nil)
        }
    }

    func sent(_ header: RTPHeader?, size: Int, now: Instant) {
        if let header { toPeer.recordRTP(header, size: size, now: now) } else { toPeer.recordRTCP(size: size, now: now) }
    }

    func noPair() { droppedNoPair += 1 }
}
