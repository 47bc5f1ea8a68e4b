import Board
import Common
import Daemon
import DTLS
import ICE
import Runtime
import TURN

/// Why a call could not be set up from its options (the process exits 1, or the doorbell
/// shows the failure and waits for the next press).
enum CallSetupError: Error {
    case pcap(String)
    case session(SessionError)
    /// The signaling URL's host.
    case unresolved(String)
    /// The DTLS identity file (`--identity`).
    case identity(String)

    var description: String {
        switch self {
        case .pcap(let path): return "cannot write " + path
        case .session(let e): return e.description
        case .unresolved(let hostAndPort): return "cannot resolve " + hostAndPort
        case .identity(let reason): return reason
        }
    }
}

/// One place that turns the options of call, answer and the doorbell into a call's parts:
/// the session with its media ports, the pcap file and the status LEDs.
extension CallCommand {
    /// `--pcap`: nil without it.
    func openPcap() throws(CallSetupError) -> PcapWriter? {
        guard let pcapPath else { return nil }
        guard let w = PcapWriter(path: pcapPath, maxBytes: pcapMaxBytes) else { throw .pcap(pcapPath) }
        return w
    }

    /// A session for one call. `attachMedia` is false for `answer --listen`, whose server gives
    /// the media ports to the call that connects.
    func makeSession(name: String, role: Role, loop: EventLoop, addresses: [IPAddress], turn: [TURNServerConfig],
                     identity: DTLSIdentity?, attachMedia: Bool, pcap: PcapWriter?) throws(CallSetupError) -> Session {
        let session: Session
        var media = media
        // The direction this agent offers follows its media ports (`answer --listen` gives
        // them to the call that connects, so they count there too).
        media.sends = rtpIn != nil || rtpOut != nil ? rtpIn != nil : nil
        media.receives = rtpIn != nil || rtpOut != nil ? rtpOut != nil : nil
        do throws(SessionError) {
            session = try Session(name: name, role: role, stunServers: stunServers, addresses: addresses, loop: loop,
                                  media: media, identity: identity, turnServers: turn, relayOnly: relayOnly)
        } catch {
            throw .session(error)
        }
        if attachMedia {
            do throws(SessionError) { try session.attachMedia(rtpIn: rtpIn, rtpOut: rtpOut) } catch {
                session.close()
                throw .session(error)
            }
        }
        session.pcap = pcap
        // Either side restarts ICE when consent is lost or the network changed (RFC 8445 §9,
        // RFC 7675 §5.1) when its signaling can carry the restart to the peer: stdio carries
        // descriptions both ways, HTTP only from the client (RFC 9725 §4.3.3).
        session.initiatesRestarts = role == .controlling || listen == nil
        return session
    }

    /// `--board`: its status LEDs on the loop, or nil (logged) when it has none to drive.
    func openLEDs(loop: EventLoop) -> StatusLEDs? {
        boardPath.flatMap { statusLEDs(path: $0, loop: loop) }
    }

    /// Runs `loop` until SIGINT/SIGTERM, `stop()` or `--duration`; false (logged) when it fails.
    func runLoop(_ loop: EventLoop) -> Bool {
        runEventLoop(loop, seconds: duration)
    }
}

/// A new event loop, or nil (logged) when the kernel refuses one.
func openEventLoop() -> EventLoop? {
    do throws(EventLoop.Failure) { return try EventLoop() } catch {
        Log.error("cannot create the event loop")
        return nil
    }
}

/// Runs `loop` until SIGINT/SIGTERM, `stop()` or `seconds` (nil: no limit); false (logged)
/// when it fails.
func runEventLoop(_ loop: EventLoop, seconds: Int64?) -> Bool {
    let limit = seconds.map { monotonicNow() + .seconds($0) }
    do throws(EventLoop.Failure) { try loop.run(until: limit) } catch {
        Log.error("event loop failed")
        return false
    }
    return true
}
