import Board
import Common
import Daemon
import DTLS
import HTTP
import ICE
import RTP
import Runtime
import SDP

/// `call URL --on-button`: the doorbell as it runs for months. It idles until the board's
/// button is pressed (or SIGUSR1 arrives: a press in software, for boards without a button and
/// for `systemctl kill -s USR1`); each press places one call to the URL. A call ends when ICE
/// fails, the home refuses the offer, or `--call-seconds` pass; the daemon then releases
/// everything the call held and waits for the next press.
final class Doorbell: TimerClient {
    static let failureDisplay = Interval.seconds(10)
    /// How long a press waits for an address, and how often it looks (see `waitingForAddress`).
    static let addressWait = Interval.seconds(10)
    static let addressPoll = Interval.milliseconds(100)

    let command: CallCommand
    let url: HTTPURL
    let server: TransportAddress
    let loop: EventLoop
    let leds: StatusLEDs?
    let callLength: Interval
    var pcap: PcapWriter?
    /// The DTLS certificate, loaded (or generated and stored, the first time) on the loop just
    /// after the doorbell is ready rather than before: ECDSA key generation and the key-pair
    /// check are the slowest part of start-up on a small CPU, and a device whose state
    /// directory does not survive a reboot generates a key at every boot. The fingerprint
    /// then stays the same for the process (RFC 8827 §6.5).
    var identity: DTLSIdentity? = nil
    /// When the identity is to be loaded; nil once it is (or for clear media).
    var identityDue: Instant? = nil
    /// The identity could not be loaded: the doorbell stops (exit 1) before placing a call.
    var identityFailed = false

    var call: (session: Session, signaling: HTTPSignalingClient, ends: Instant)? = nil
    var number = 0
    /// Set when the call must end at the next turn of the loop (never inside its own callbacks).
    var endAt: Instant? = nil
    var endReason = ""
    /// When the failed pattern gives way to idle again.
    var idleAt: Instant? = nil
    /// A press that found no address on the call's interfaces (the network still coming up
    /// after boot, a link being re-established) waits for one until this instant, looking
    /// again at `addressPollAt`; then the call is placed with whatever there is.
    var waitingForAddress: Instant? = nil
    var addressPollAt: Instant? = nil
    var lastCallConnected: Bool? = nil

    init(command: CallCommand, url: HTTPURL, server: TransportAddress, loop: EventLoop,
         leds: StatusLEDs?, callLength: Interval) {
        self.command = command
        self.url = url
        self.server = server
        self.loop = loop
        self.leds = leds
        self.callLength = callLength
        leds?.set(.idle, now: monotonicNow())
    }

    func press(now: Instant) {
        if call != nil {
            Log.info("doorbell: pressed during call \(number): ignored")
            return
        }
        if waitingForAddress != nil {
            Log.info("doorbell: pressed while the call waits for an address: ignored")
            return
        }
        place(now: now)
    }

    /// Loads the identity if it is still due; false (logged, the loop stopped) when it fails.
    func loadIdentityIfDue() -> Bool {
        guard identityDue != nil else { return !identityFailed }
        identityDue = nil
        do throws(CallSetupError) { identity = try command.loadIdentity() } catch {
            Log.error("\(error.description)")
            identityFailed = true
            loop.stop()
            return false
        }
        return true
    }

    func place(now: Instant) {
        // A press that comes before the identity was loaded waits for it.
        guard loadIdentityIfDue() else { return }
        // The addresses of now, not of start-up: DHCP leases change and IPv6 temporary
        // addresses expire while a doorbell runs for months.
        let addresses = interfaceAddresses(command.filter).map { $0.address }
        addressPollAt = nil
        if addresses.isEmpty {
            if waitingForAddress == nil {
                waitingForAddress = now + Self.addressWait
                Log.info("doorbell: press: no address yet; the call waits for one")
                leds?.set(.gathering, now: now)
            }
            if let until = waitingForAddress, now < until {
                addressPollAt = now + Self.addressPoll
                return
            }
        }
        waitingForAddress = nil
        number += 1
        Log.info("doorbell: press: placing call \(number) to http://\(url.hostAndPort)\(url.path)")
        let session: Session
        do throws(CallSetupError) {
            let turn = try command.turnConfigs(skipUnresolved: true)
            session = try command.makeSession(name: "doorbell", role: .controlling, loop: loop,
                                              addresses: addresses, turn: turn,
                                              identity: identity, attachMedia: true, pcap: pcap)
        } catch {
            Log.error("doorbell: call \(number): \(error.description)")
            showFailure(now: now)
            return
        }
        let signaling = HTTPSignalingClient(url: url, server: server, loop: loop, token: command.token, tls: command.signalTLS)
        session.signaling = signaling
        call = (session, signaling, now + callLength)
        idleAt = nil
        leds?.set(.gathering, now: now)
        session.start(now: now)
    }

    /// What the call's session and signaling reported: the LEDs follow ICE; a failure (or a
    /// lost consent, RFC 7675 §5.1) or a refused offer ends the call.
    func pollCall(now: Instant) {
        guard let c = call else { return }
        while let e = c.session.pollEvent() {
            switch e {
            case .stateChanged(let state):
                leds?.set(boardStatus(state), now: now)
                if state == .failed { requestEnd("ICE failed", now: now) }
            case .descriptionRejected:
                c.signaling.fail()
                requestEnd("the home's answer was refused", now: now)
            case .signalingClosedWithoutPeer:
                break
            case .mediaSecurityFailed:
                requestEnd("media protection failed", now: now)
            case .restartUnanswered:
                requestEnd("the home did not answer the ICE restart", now: now)
            }
        }
        if c.signaling.takeFatal() { requestEnd("the home did not take the call", now: now) }
    }

    func requestEnd(_ reason: String, now: Instant) {
        guard call != nil, endAt == nil else { return }
        endReason = reason
        endAt = now
    }

    /// Releases everything the call held: its sockets, relays, timers and signaling resource.
    func finish(now: Instant) {
        guard let c = call else { return }
        call = nil
        endAt = nil
        let connected = c.session.everConnected
        lastCallConnected = connected
        Log.info("""
            doorbell: call \(number) ended (\(endReason)); connected: \(connected ? "yes" : "no"); \
            sent \(c.session.toPeer.packets) RTP packets, received \(c.session.fromPeer.packets)
            """)
        // The DELETE runs on the loop (5 s timeout) and then leaves it: a home that vanished
        // must not freeze the LEDs and the button.
        c.signaling.deleteOnLoop()
        c.session.signaling = nil
        // The DELETE keeps the session alive until it is answered (up to 5 s): its --rtp-in
        // socket is closed here, so the next press can bind that port at once.
        let ingress = c.session.rtpIn
        c.session.close()
        ingress?.close()
        if connected { leds?.set(.idle, now: now) } else { showFailure(now: now) }
    }

    func showFailure(now: Instant) {
        leds?.set(.failed, now: now)
        idleAt = now + Self.failureDisplay
    }

    /// Ends the call in progress on the way out.
    func shutdown() {
        if call != nil {
            endReason = "stopped"
            finish(now: monotonicNow())
        }
    }

    var statusLines: [String] { call.map { [$0.session.statusJSON] } ?? [] }

    // MARK: TimerClient

    var nextDeadline: Instant? {
        var d = idleAt
        for t in [identityDue, addressPollAt, endAt, call?.ends, call?.session.eventDeadline, call?.signaling.fatalDeadline] {
            if let t, d == nil || t < d! { d = t }
        }
        return d
    }

    func handleTimeout(now: Instant) {
        if let t = identityDue, t <= now { _ = loadIdentityIfDue() }
        if let t = addressPollAt, t <= now { place(now: now) }
        pollCall(now: now)
        if let c = call {
            if let e = endAt, e <= now {
                finish(now: now)
            } else if c.ends <= now {
                endReason = "call length reached"
                finish(now: now)
            }
        }
        if let t = idleAt, t <= now {
            idleAt = nil
            leds?.set(.idle, now: now)
        }
    }
}

extension CallCommand {
    /// `call URL --on-button`: see `Doorbell`.
    func runDoorbell(loop: EventLoop) -> Int32 {
        guard let url, let server = resolve(hostAndPort: url.hostAndPort) else {
            Log.error("\(CallSetupError.unresolved(url?.hostAndPort ?? "").description)")
            return 1
        }
        let doorbell = Doorbell(command: self, url: url, server: server, loop: loop,
                                leds: openLEDs(loop: loop), callLength: .seconds(callSeconds))
        do throws(CallSetupError) { doorbell.pcap = try openPcap() } catch {
            Log.error("\(error.description)")
            return 1
        }
        if media.security == .dtlsSrtp { doorbell.identityDue = monotonicNow() }
        loop.addTimerClient(doorbell)
        loop.onSignal(EventLoop.userSignal1) { now in
            Log.info("doorbell: SIGUSR1")
            doorbell.press(now: now)
        }
        let button = boardPath.flatMap { doorbellButton(path: $0, loop: loop) { now in doorbell.press(now: now) } }
        _ = button
        let status = statusSocket.flatMap { StatusServer(path: $0, loop: loop) { doorbell.statusLines } }
        _ = status
        Log.info("doorbell: waiting for the button\(button == nil ? " (none: SIGUSR1 places a call)" : "")")
        guard runLoop(loop), !doorbell.identityFailed else { return 1 }
        doorbell.shutdown()
        return doorbell.lastCallConnected == false ? 3 : 0
    }
}
