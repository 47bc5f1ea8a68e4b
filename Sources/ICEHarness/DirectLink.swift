import Common
import ICE

/// Two agents joined by a lossless link with a fixed one-way latency, on a virtual clock.
/// Allocation-free after creation (a fixed ring of in-flight datagrams), so the device
/// self-test and the allocation check can drive agents with it; the NAT simulator in Tests/
/// covers everything else.
public final class DirectLink<R: RandomSource> {
    public let a: Agent<R>
    public let b: Agent<R>
    public private(set) var now: Instant
    public let latency: Interval
    /// Datagrams handed over (both directions).
    public private(set) var delivered = 0
    /// Datagrams that did not fit the ring (should stay 0).
    public private(set) var overflow = 0
    /// Heap allocations made inside agent calls, when an allocation counter is installed.
    public var allocationCounter: (() -> Int)? = nil
    public private(set) var agentAllocations = 0

    static var slots: Int { 64 }
    static var slotSize: Int { 1280 }
    let storage: UnsafeMutableRawBufferPointer
    var dueTimes: [Instant]
    var toA: [Bool]
    var sources: [TransportAddress]
    var destinations: [TransportAddress]
    var lengths: [Int]
    var used: [Bool]

    public init(_ a: Agent<R>, _ b: Agent<R>, latency: Interval = .milliseconds(10), start: Instant = .zero) {
        self.a = a
        self.b = b
        self.latency = latency
        now = start
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.slots * Self.slotSize, alignment: 8)
        let zero = TransportAddress(.v4(0), 0)
        dueTimes = [Instant](repeating: .zero, count: Self.slots)
        toA = [Bool](repeating: false, count: Self.slots)
        sources = [TransportAddress](repeating: zero, count: Self.slots)
        destinations = [TransportAddress](repeating: zero, count: Self.slots)
        lengths = [Int](repeating: 0, count: Self.slots)
        used = [Bool](repeating: false, count: Self.slots)
    }

    deinit { storage.deallocate() }

    @inline(__always)
    func counted<T>(_ body: () -> T) -> T {
        guard let counter = allocationCounter else { return body() }
        let before = counter()
        let r = body()
        agentAllocations += counter() - before
        return r
    }

    func collect(from agent: Agent<R>, toA: Bool) {
        while true {
            guard let t = counted({ agent.pollTransmit() }) else { return }
            guard let slot = used.firstIndex(of: false) else {
                overflow += 1
                continue
            }
            used[slot] = true
            self.toA[slot] = toA
            dueTimes[slot] = now + latency
            sources[slot] = t.source
            destinations[slot] = t.destination
            lengths[slot] = t.bytes.count
            UnsafeMutableRawBufferPointer(rebasing: storage[(slot * Self.slotSize)...]).copyMemory(from: t.bytes)
        }
    }

    /// Runs until `done()` holds (checked after every step) or the clock passes `limit`.
    /// Returns whether `done()` held.
    public func run(until limit: Instant, _ done: () -> Bool) -> Bool {
        while true {
            collect(from: a, toA: false)
            collect(from: b, toA: true)
            if done() { return true }
            // Deliver everything due, oldest first.
            var deliveredAny = false
            while let slot = nextDue() {
                used[slot] = false
                let target = toA[slot] ? a : b
                let bytes = UnsafeRawBufferPointer(rebasing: storage[(slot * Self.slotSize)..<(slot * Self.slotSize + lengths[slot])])
                let from = sources[slot], to = destinations[slot], at = now
                _ = counted { target.handle(packet: bytes, from: from, to: to, now: at) }
                delivered += 1
                deliveredAny = true
                collect(from: a, toA: false)
                collect(from: b, toA: true)
            }
            if deliveredAny { continue }
            for agent in [a, b] {
                if let d = counted({ agent.nextDeadline }), d <= now {
                    let at = now
                    counted { agent.handleTimeout(now: at) }
                    // The deadline invariant: a timeout handled is never still due, else an
                    // event loop driving the agent would spin.
                    if let after = counted({ agent.nextDeadline }), after <= at {
                        preconditionFailure("DirectLink: nextDeadline \(after.nanoseconds) ns still due after handleTimeout at \(at.nanoseconds) ns")
                    }
                }
            }
            collect(from: a, toA: false)
            collect(from: b, toA: true)
            if done() { return true }
            // Advance to the next event.
            var next = limit
            if let d = counted({ a.nextDeadline }), d < next { next = d }
            if let d = counted({ b.nextDeadline }), d < next { next = d }
            for s in 0..<Self.slots where used[s] && dueTimes[s] < next { next = dueTimes[s] }
            if now >= limit { return done() }
            now = next
        }
    }

    func nextDue() -> Int? {
        var best: Int? = nil
        for s in 0..<Self.slots where used[s] && dueTimes[s] <= now {
            if best == nil || dueTimes[s] < dueTimes[best!] { best = s }
        }
        return best
    }

    /// Exchanges credentials and all current local candidates (the signaling step).
    public func exchangeCandidates() throws(ICEError) {
        a.setRemoteCredentials(ufrag: b.localCredentials.ufragText, password: b.localCredentials.passwordText)
        b.setRemoteCredentials(ufrag: a.localCredentials.ufragText, password: a.localCredentials.passwordText)
        for i in a.localCandidates.indices { try b.addRemoteCandidate(a.localCandidates[i], now: now) }
        for i in b.localCandidates.indices { try a.addRemoteCandidate(b.localCandidates[i], now: now) }
    }
}
