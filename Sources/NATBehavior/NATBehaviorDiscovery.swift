import Common
import STUN

/// RFC 5780 §4 NAT behaviour discovery, sans-IO: datagrams and time in, datagrams and
/// deadlines out. The caller owns two UDP sockets (`LocalSocket`), a clock and the transaction
/// ids' randomness (RFC 8489 §6).
///
/// Drive it like any sans-IO endpoint: `pollTransmit(into:)` until nil after every call,
/// `handle(datagram:from:on:now:)` for each datagram either socket receives,
/// `handleTimeout(now:)` once `nextDeadline` has passed. `outcome` leaves `.running` exactly
/// once, by the configured time limit at the latest; `nextDeadline` is then nil.
public struct NATBehaviorDiscovery<Random: RandomSource> {
    public let configuration: DiscoveryConfiguration
    public private(set) var outcome: DiscoveryOutcome = .running
    /// Datagrams ignored: not STUN, not ours, from the wrong address or socket, malformed.
    public private(set) var droppedDatagrams = 0

    var random: Random
    let deadline: Instant
    var stage = Stage.mappingI
    var requests: [ProbeRequest] = []
    var timer: Retransmission
    /// Bit i set: request i is due to be sent.
    var due: UInt8 = 0

    var mapped1: TransportAddress? = nil
    var other: TransportAddress? = nil
    var mapped2: TransportAddress? = nil
    var socket1Mapped: TransportAddress? = nil
    var mapping: MappingBehavior? = nil
    var filtering: FilteringBehavior? = nil
    var hairpinning = Hairpinning.notTested
    /// RFC 5780 §4.6 progress: this round's idle time, and the end of the idle wait.
    var idle = Interval(nanoseconds: 0)
    var idleUntil: Instant? = nil
    var lifetimeMapped: TransportAddress? = nil
    var lifetime: MappingLifetime? = nil

    public init(configuration: DiscoveryConfiguration, random: Random, now: Instant) {
        self.configuration = configuration.clamped
        self.random = random
        deadline = now + self.configuration.timeLimit
        timer = Retransmission(now: now)
        start(.mappingI, now: now)
        pump(now: now)
    }

    public var nextDeadline: Instant? {
        guard outcome == .running else { return nil }
        return min(idleUntil ?? timer.deadline, deadline)
    }

    public mutating func handleTimeout(now: Instant) {
        guard outcome == .running else { return }
        if now >= deadline {
            expire()
            return
        }
        pump(now: now)
    }

    /// The next request to send, written into `buffer` (at least 64 bytes).
    public mutating func pollTransmit(into buffer: UnsafeMutableRawBufferPointer) -> DiscoveryTransmit? {
        while outcome == .running && due != 0 {
            let i = due.trailingZeroBitCount
            due &= ~(1 << UInt8(i))
            guard i < requests.count else { continue }
            let r = requests[i]
            // Only a buffer smaller than a Binding request fails; that send is skipped and the
            // timer retransmits into the next buffer.
            guard let count = try? r.write(into: buffer) else { continue }
            return DiscoveryTransmit(socket: r.socket, destination: r.destination, count: count)
        }
        return nil
    }

    /// A datagram that arrived on `socket` from `source`. Anything that is not the answer the
    /// current test waits for is counted and dropped.
    public mutating func handle(datagram: UnsafeRawBufferPointer, from source: TransportAddress, on socket: LocalSocket,
                                now: Instant) {
        guard outcome == .running else { return }
        if now >= deadline {
            expire()
            return
        }
        guard let m = try? Message(parsing: datagram), !m.isClassic, m.method == .binding,
              let index = requests.firstIndex(where: { $0.id == m.transactionID })
        else {
            droppedDatagrams += 1
            return
        }
        let request = requests[index]
        if stage == .hairpinCross {
            // RFC 5780 §4.5: our own request, looped back by the NAT to the other socket.
            guard m.messageClass == .request, socket == request.socket.other else {
                droppedDatagrams += 1
                return
            }
            hairpinning = .supported
            startLifetime(now: now)
            pump(now: now)
            return
        }
        guard socket == request.replySocket, source == request.expectedSource, m.checkFingerprint() != .bad else {
            droppedDatagrams += 1
            return
        }
        switch m.messageClass {
        case .successResponse:
            // A missing OTHER-ADDRESS is the server's answer (§4.2); a malformed one is junk.
            let mapped: TransportAddress?
            let otherAddress: TransportAddress?
            do throws(AttributeError) {
                mapped = try m.mappedAddress()
                otherAddress = try m.address(.otherAddress)
            } catch {
                droppedDatagrams += 1
                return
            }
            guard let mapped, mapped.ip.isIPv4 == configuration.server.ip.isIPv4 else {
                droppedDatagrams += 1
                return
            }
            succeeded(mapped: mapped, other: otherAddress, now: now)
        case .errorResponse:
            guard let error = try? m.errorCode() else {
                droppedDatagrams += 1
                return
            }
            refused(code: error.code, now: now)
        case .request, .indication:
            droppedDatagrams += 1
            return
        }
        if outcome == .running { pump(now: now) }
    }

    // MARK: The tests

    mutating func start(_ next: Stage, now: Instant) {
        stage = next
        requests.removeAll(keepingCapacity: true)
        due = 0
        let server = configuration.server
        switch next {
        case .mappingI:
            add(.socket0, to: server)
        case .filteringII:
            guard let other else { return }
            add(.socket0, to: server, change: BindingResponder.changeIP | BindingResponder.changePort, expecting: other)
        case .filteringIII:
            guard let other else { return }
            add(.socket0, to: server, change: BindingResponder.changePort,
                expecting: TransportAddress(server.ip, other.port))
        case .mappingII:
            guard let other else { return }
            add(.socket0, to: TransportAddress(other.ip, server.port))
        case .mappingIII:
            guard let other else { return }
            add(.socket0, to: other)
        case .hairpinBinding:
            add(.socket1, to: server)
        case .hairpinCross:
            guard let mapped1, let socket1Mapped else { return }
            add(.socket0, to: socket1Mapped)
            add(.socket1, to: mapped1)
        case .lifetimeRefresh:
            add(.socket0, to: server)
        case .lifetimeIdle:
            idleUntil = now + idle
        case .lifetimeProbe:
            guard let lifetimeMapped else { return }
            add(.socket1, to: server, responsePort: lifetimeMapped.port, replySocket: .socket0)
        }
        timer = Retransmission(now: now, rto: configuration.rto, maxSends: configuration.maxSends,
                               lastWaitFactor: configuration.lastWaitFactor)
    }

    mutating func add(_ socket: LocalSocket, to destination: TransportAddress, change: UInt32 = 0,
                      expecting source: TransportAddress? = nil, responsePort: UInt16? = nil,
                      replySocket: LocalSocket? = nil) {
        let id = TransactionID(random: &random)
        requests.append(ProbeRequest(socket: socket, destination: destination, id: id, changeFlags: change,
                                     responsePort: responsePort, replySocket: replySocket ?? socket,
                                     expectedSource: source ?? destination))
    }

    /// Runs the timer until it waits past `now`: sends due requests, and moves on from a test
    /// that went unanswered (which may start the next one at `now`).
    mutating func pump(now: Instant) {
        while outcome == .running {
            if let until = idleUntil {
                guard now >= until else { return }
                idleUntil = nil
                start(.lifetimeProbe, now: now)
            }
            switch timer.poll(now: now) {
            case .send:
                due = UInt8(truncatingIfNeeded: (1 << requests.count) - 1)
            case .wait:
                return
            case .timedOut:
                unanswered(now: now)
            }
        }
    }

    mutating func succeeded(mapped: TransportAddress, other otherAddress: TransportAddress?, now: Instant) {
        switch stage {
        case .mappingI:
            // RFC 5780 §4.2: without OTHER-ADDRESS the server cannot run the other tests.
            guard let otherAddress else { return fail(.serverLacksRFC5780) }
            let server = configuration.server
            guard otherAddress.ip.isIPv4 == server.ip.isIPv4, otherAddress.ip != server.ip,
                  otherAddress.port != server.port
            else { return fail(.alternateUnreachable) }
            mapped1 = mapped
            other = otherAddress
            if configuration.localAddresses.contains(mapped) { mapping = .noNAT }
            start(.filteringII, now: now)
        case .filteringII:
            filtering = .endpointIndependent
            startMappingTests(now: now)
        case .filteringIII:
            filtering = .addressDependent
            startMappingTests(now: now)
        case .mappingII:
            if mapped == mapped1 {
                mapping = .endpointIndependent
                startHairpinning(now: now)
            } else {
                mapped2 = mapped
                start(.mappingIII, now: now)
            }
        case .mappingIII:
            mapping = mapped == mapped2 ? .addressDependent : .addressAndPortDependent
            startHairpinning(now: now)
        case .hairpinBinding:
            socket1Mapped = mapped
            start(.hairpinCross, now: now)
        case .hairpinCross, .lifetimeIdle:
            break
        case .lifetimeRefresh:
            lifetimeMapped = mapped
            start(.lifetimeIdle, now: now)
        case .lifetimeProbe:
            // The answer reached socket 0 through its mapping: alive after `idle`.
            lifetime?.aliveAfter = idle
            nextLifetimeRound(now: now)
        }
    }

    mutating func refused(code: Int, now: Instant) {
        switch stage {
        case .filteringII, .filteringIII:
            // RFC 5780 §6.1: a server without an alternate answers CHANGE-REQUEST with 420.
            fail(code == 420 ? .serverLacksRFC5780 : .errorResponse(code: code))
        case .hairpinBinding:
            startLifetime(now: now)
        case .lifetimeRefresh, .lifetimeProbe:
            finish()
        default:
            fail(.errorResponse(code: code))
        }
    }

    mutating func unanswered(now: Instant) {
        switch stage {
        case .mappingI: fail(.noResponse)
        case .filteringII: start(.filteringIII, now: now)
        case .filteringIII:
            filtering = .addressAndPortDependent
            startMappingTests(now: now)
        case .mappingII, .mappingIII: fail(.alternateUnreachable)
        case .hairpinBinding: startLifetime(now: now)
        case .hairpinCross:
            hairpinning = .notObserved
            startLifetime(now: now)
        case .lifetimeRefresh, .lifetimeIdle: finish()
        case .lifetimeProbe:
            lifetime?.goneAfter = idle
            finish()
        }
    }

    mutating func startMappingTests(now: Instant) {
        // RFC 5780 §4.3: with no NAT, tests II and III are not needed.
        if mapping == .noNAT { return finish() }
        start(.mappingII, now: now)
    }

    mutating func startHairpinning(now: Instant) {
        guard configuration.testHairpinning else { return startLifetime(now: now) }
        start(.hairpinBinding, now: now)
    }

    /// RFC 5780 §4.6, when configured and there is a NAT whose mapping can expire.
    mutating func startLifetime(now: Instant) {
        guard let probe = configuration.lifetime, mapping != .noNAT else { return finish() }
        lifetime = MappingLifetime(aliveAfter: nil, goneAfter: nil)
        idle = probe.first
        start(.lifetimeRefresh, now: now)
    }

    mutating func nextLifetimeRound(now: Instant) {
        guard let probe = configuration.lifetime, idle * 2 <= probe.longest else { return finish() }
        idle = idle * 2
        start(.lifetimeRefresh, now: now)
    }

    mutating func finish() {
        guard let mapped1, let other, let mapping, let filtering else { return fail(.timedOut) }
        outcome = .determined(NATBehaviorReport(mappedAddress: mapped1, server: configuration.server, otherAddress: other,
                                                mapping: mapping, filtering: filtering, hairpinning: hairpinning,
                                                mappingLifetime: lifetime))
        requests.removeAll()
        due = 0
        idleUntil = nil
    }

    mutating func fail(_ error: NATDiscoveryError) {
        outcome = .failed(error)
        requests.removeAll()
        due = 0
        idleUntil = nil
    }

    /// The time limit: a verdict if mapping and filtering are known (hairpinning untested),
    /// `.noResponse` if the server never answered, else `.timedOut`.
    mutating func expire() {
        if stage == .mappingI { return fail(.noResponse) }
        if stage == .hairpinBinding || stage == .hairpinCross { hairpinning = .notTested }
        finish()
    }
}
