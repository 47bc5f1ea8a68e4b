import Board
import Common
import Daemon
import ICE
import Runtime

/// The owner side of `call`, `answer` and `answer --listen` on the event loop: it polls what
/// the session (or the signaling server) and the HTTP signaling report, sets the status LEDs,
/// and ends the run when the call cannot go on (ICE failed or consent lost, RFC 7675 §5.1; the
/// offer refused). Polled rather than called back, so nothing below holds a reference to it.
final class CallWatcher: TimerClient {
    let loop: EventLoop
    let leds: StatusLEDs?
    let session: Session?
    let server: HTTPSignalingServer?
    var http: HTTPSignalingClient? = nil
    /// Stop when stdin ends before a usable peer description: no peer can come any more. Off
    /// when the run is bounded otherwise (`--duration`): a peerless agent is then a way to
    /// watch gathering, TURN and the status socket for that long.
    var endWithoutPeer = true

    init(loop: EventLoop, leds: StatusLEDs?, session: Session? = nil, server: HTTPSignalingServer? = nil) {
        self.loop = loop
        self.leds = leds
        self.session = session
        self.server = server
        loop.addTimerClient(self)
    }

    var nextDeadline: Instant? {
        var d = session?.eventDeadline
        for t in [server?.stateChangeDeadline, http?.fatalDeadline] {
            if let t, d == nil || t < d! { d = t }
        }
        return d
    }

    func handleTimeout(now: Instant) {
        while let e = session?.pollEvent() {
            switch e {
            case .stateChanged(let state):
                leds?.set(boardStatus(state), now: now)
                if state == .failed { loop.stop() }
            case .descriptionRejected:
                // The answer to our offer was refused: the call cannot proceed. A description
                // on stdin may be followed by a better one, so stdio goes on.
                if let http {
                    http.fail()
                    loop.stop()
                }
            case .mediaSecurityFailed, .restartUnanswered:
                loop.stop()
            case .signalingClosedWithoutPeer:
                if endWithoutPeer {
                    Log.error("signaling: stdin closed before the peer's description: no peer")
                    loop.stop()
                }
            }
        }
        while let state = server?.pollStateChange() { leds?.set(boardStatus(state), now: now) }
        if http?.takeFatal() == true { loop.stop() }
    }
}
