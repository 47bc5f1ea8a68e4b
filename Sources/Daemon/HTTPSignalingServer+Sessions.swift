import Common
import ICE
import Runtime

/// What the server does as its sessions change state: media ports, ending and releasing.
extension HTTPSignalingServer {
    /// From the server's timer, which polls its sessions' events: ending is left to the
    /// timer's next turn (`endAt`).
    func stateChanged(_ s: ServedSession, _ state: AgentState, now: Instant) {
        switch state {
        case .connected, .completed:
            s.connected = true
            giveMedia(to: s)
        case .failed:
            if s.endAt == nil {
                s.endAt = now
                s.endReason = "ended (ICE failed)"
            }
        default:
            break
        }
        stateChanges.push(state, now: now)
    }

    /// The media ports go to a connected call when no other holds them.
    func giveMedia(to s: ServedSession) {
        guard mediaOwner == nil, policy.rtpIn != nil || policy.rtpOut != nil, s.endAt == nil else { return }
        do throws(SessionError) {
            try s.session.attachMedia(rtpIn: policy.rtpIn, rtpOut: policy.rtpOut)
            mediaOwner = s
            Log.info("signaling: session \(s.number) has the media ports")
        } catch {
            Log.warning("signaling: session \(s.number): \(error.description)")
        }
    }

    /// Releases everything the session held: sockets, TURN allocations, timers, the media
    /// ports (then handed to another connected call, if any).
    func end(_ s: ServedSession, _ reason: String) {
        guard let i = served.firstIndex(where: { $0 === s }) else { return }
        served.remove(at: i)
        s.session.close()
        for c in connections where c.pendingAnswer === s {
            c.pendingAnswer = nil
            finish(c, busy(retryAfter: policy.retryAfterSeconds))
        }
        Log.info("signaling: session \(s.number) \(reason)")
        if mediaOwner === s {
            mediaOwner = nil
            for other in served where other.connected {
                giveMedia(to: other)
                if mediaOwner != nil { break }
            }
        }
    }

    /// The sessions' events, drained on the server's timer.
    func pollSessions(now: Instant) {
        for s in served {
            while let e = s.session.pollEvent() {
                switch e {
                case .stateChanged(let state): stateChanged(s, state, now: now)
                // The server's sessions take their descriptions from requests, which answer
                // for themselves; they have no signaling transport of their own to restart with.
                case .descriptionRejected, .signalingClosedWithoutPeer, .restartUnanswered: break
                case .mediaSecurityFailed: end(s, "ended (media protection failed)")
                }
            }
        }
    }

    /// When the owner must poll `pollStateChange`.
    public var stateChangeDeadline: Instant? { stateChanges.deadline }

    /// The next state change of any session (oldest first).
    public func pollStateChange() -> AgentState? { stateChanges.pop() }

    /// Ends every session (on the way out).
    public func closeAll() {
        for s in served { end(s, "ended (shutting down)") }
    }

    /// 128 bits from the system's random source, as hex: the session's path cannot be
    /// guessed from another's.
    func newSessionID() -> String {
        var words: [UInt64] = [random.next(), random.next()]
        return words.withUnsafeMutableBytes { hexString(UnsafeRawBufferPointer($0)) }
    }
}

/// One session served over HTTP: its resource id, log number and lifetime.
final class ServedSession {
    let number: Int
    let id: String
    let session: Session
    let created: Instant
    /// The offer, or the last ICE restart: --setup-seconds count from here.
    var setupStarted: Instant
    var connected = false
    /// End requested (from the session's own callback), done on the next timer turn.
    var endAt: Instant? = nil
    var endReason = ""

    init(number: Int, id: String, session: Session, created: Instant) {
        self.number = number
        self.id = id
        self.session = session
        self.created = created
        setupStarted = created
    }

    /// A strong entity-tag naming the current ICE session (RFC 9725 §4.3.1): the local ufrag,
    /// which every restart changes.
    var eTag: String { "\"" + session.agent.localCredentials.ufragText + "\"" }
}
