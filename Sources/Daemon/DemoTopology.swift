import Common
import DTLS
import ICE
import Runtime
import SDP

/// The arrangement `ice-agent demo`, `ice-bench rtp` and `ice-bench idle` all run: on one event
/// loop on IPv4 loopback, the home (controlled) and the doorbell (controlling) sessions, both
/// using one built-in STUN server, in-memory signaling between them, the doorbell's RTP
/// ingress port and the home's RTP egress to `sink`.
public final class DemoTopology {
    /// Why the arrangement could not be set up.
    public enum Failure: Error {
        case loop
        case socket(SocketError)
        case session(SessionError)
        case identity(DTLSError)

        public var description: String {
            switch self {
            case .identity(let e): return "cannot generate a DTLS identity: " + e.description
            case .loop: return "cannot create the event loop"
            case .socket(let e): return e.description
            case .session(let e): return e.description
            }
        }
    }

    public let loop: EventLoop
    public let stun: StunServer
    public let home: Session
    public let doorbell: Session
    public let sink: MediaSink

    /// `security`: DTLS-SRTP between the two (each with an identity generated here, in
    /// memory), or clear RTP.
    public init(security: MediaSecurity = .dtlsSrtp) throws(Failure) {
        let loopback = IPAddress.v4Loopback
        do throws(EventLoop.Failure) { loop = try EventLoop() } catch { throw .loop }
        do throws(SocketError) { stun = try StunServer(bind: TransportAddress(loopback, 0), loop: loop) } catch { throw .socket(error) }
        Log.info("demo: STUN server on \(stun.socket.localAddress)")
        let servers = [stun.socket.localAddress]
        var media = MediaConfig()
        media.security = security
        var homeIdentity: DTLSIdentity? = nil, doorbellIdentity: DTLSIdentity? = nil
        if security == .dtlsSrtp {
            var random = SystemRandom()
            do throws(DTLSError) {
                homeIdentity = try DTLSIdentity.generate(random: &random)
                doorbellIdentity = try DTLSIdentity.generate(random: &random)
            } catch {
                throw .identity(error)
            }
        }
        do throws(SessionError) {
            var homeMedia = media, doorbellMedia = media
            homeMedia.receives = true
            homeMedia.sends = false
            doorbellMedia.sends = true
            doorbellMedia.receives = false
            home = try Session(name: "home", role: .controlled, stunServers: servers, addresses: [loopback], loop: loop,
                               media: homeMedia, identity: homeIdentity)
            doorbell = try Session(name: "doorbell", role: .controlling, stunServers: servers, addresses: [loopback], loop: loop,
                                   media: doorbellMedia, identity: doorbellIdentity)
        } catch {
            throw .session(error)
        }
        do throws(SocketError) { sink = try MediaSink(bind: TransportAddress(loopback, 0), loop: loop) } catch { throw .socket(error) }
        do throws(SessionError) {
            try doorbell.attachMedia(rtpIn: TransportAddress(loopback, 0), rtpOut: nil)
            try home.attachMedia(rtpIn: nil, rtpOut: sink.socket.localAddress)
        } catch {
            throw .session(error)
        }
        let (toHome, toDoorbell) = InMemorySignaling.pair()
        doorbell.signaling = toHome
        home.signaling = toDoorbell
    }

    /// Where a media source feeds the doorbell (its `--rtp-in`).
    public var doorbellIngress: TransportAddress { doorbell.rtpIn!.localAddress }

    public var completed: Bool { doorbell.agent.state == .completed && home.agent.state == .completed }

    /// When the later of the two sessions completed ICE, as each recorded it.
    public var completedAt: Instant? {
        guard let d = doorbell.completedAt, let h = home.completedAt else { return nil }
        return max(d, h)
    }

    /// The earliest event either session queued for its owner (a state change): an owner
    /// that waits for completion wakes then rather than on a period.
    public var eventDeadline: Instant? {
        switch (doorbell.eventDeadline, home.eventDeadline) {
        case (let d?, let h?): return min(d, h)
        case (let d, let h): return d ?? h
        }
    }

    /// Drops the sessions' queued events (the demo reads the sessions' state instead).
    public func drainEvents() {
        while doorbell.pollEvent() != nil {}
        while home.pollEvent() != nil {}
    }

    /// "doorbell STATE, home STATE", for the messages of a run that did not connect.
    public var states: String { "doorbell \(doorbell.agent.state.name.description), home \(home.agent.state.name.description)" }

    public func start(now: Instant) {
        doorbell.start(now: now)
        home.start(now: now)
    }

    public func close() {
        doorbell.close()
        home.close()
    }
}
