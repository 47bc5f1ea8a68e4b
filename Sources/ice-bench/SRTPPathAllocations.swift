import AllocationCounter
import Common
import Daemon
import ICE
import Runtime
import SDP
import SRTP

// `ice-bench alloc-check`'s encrypted media path: a demo call with DTLS-SRTP, connected and
// keyed, relays RTP through the whole daemon path (receive on --rtp-in, protect, send on the
// selected pair, receive, unprotect, forward to --rtp-out); the allocations counted there
// less libsrtp's own on as many protect+unprotect round trips are the daemon's.

/// Notes the allocation count when the loop first fires its timers, after `run` set up.
final class AllocationMark: TimerClient {
    var at: Int? = nil
    var nextDeadline: Instant? { at == nil ? .zero : nil }
    func handleTimeout(now: Instant) { at = allocationCount }
}

/// Allocations in `packets` RTP protect+unprotect round trips of `rtpLength` bytes through
/// SRTPSession (libsrtp and its crypto backend), after the stream exists.
func srtpSessionAllocations(_ profile: SRTPProfile, packets: Int, rtpLength: Int) -> Int {
    let pair = makeSRTPPair(profile)
    var p = SRTPBenchPacket(rtpLength: rtpLength)
    p.next()
    srtpRoundTrip(pair, &p, rtcp: false, unprotect: true)
    let a0 = allocationCount
    for _ in 0..<packets {
        p.next()
        srtpRoundTrip(pair, &p, rtcp: false, unprotect: true)
    }
    return allocationCount - a0
}

/// Prints the figures; false when the daemon allocated on the packet path outside libsrtp,
/// or the call could not be set up, keyed, or relayed.
func runSRTPPathAllocationCheck(packets: Int = 10_000) -> Bool {
    guard let call = benchTopology("alloc-check", security: .dtlsSrtp) else { return false }
    defer { call.close() }
    call.start(now: monotonicNow())
    guard drive([call.loop], timeout: .seconds(10), until: { connectedAndKeyed(call) }),
          let profile = call.doorbell.connection.mediaSecurity?.profile else {
        print("FAIL: the encrypted demo call did not connect and key (\(call.states))")
        return false
    }
    // Warm-up: the SRTP streams (libsrtp makes one per SSRC at its first packet), the
    // relays' first-packet state, the sockets' buffers.
    var warm: BlastResult? = nil
    do {
        let blaster = try RTPBlaster(to: call.doorbellIngress, sink: call.sink, total: 1000, loop: call.loop) { warm = $0 }
        guard drive([call.loop], timeout: .seconds(30), until: { warm != nil }), warm!.received > 0 else {
            print("FAIL: no RTP arrived through the encrypted demo call (\(blaster.received) of 1000)")
            return false
        }
    } catch {
        print("FAIL: alloc-check: \(error)")
        return false
    }
    let mark = AllocationMark()
    call.loop.addTimerClient(mark)
    var result: BlastResult? = nil
    let blaster: RTPBlaster
    do {
        blaster = try RTPBlaster(to: call.doorbellIngress, sink: call.sink, total: packets, loop: call.loop, firstSequence: 1000) { r in
            result = r
            call.loop.stop()
        }
    } catch {
        print("FAIL: alloc-check: \(error)")
        return false
    }
    // One run, no slices: each `run` allocates its event buffer, before the mark.
    do throws(EventLoop.Failure) { try call.loop.run(until: monotonicNow() + .seconds(60)) } catch {
        print("FAIL: alloc-check: the event loop failed")
        return false
    }
    guard let r = result, r.received > 0 else {
        print("FAIL: the encrypted relay did not finish (\(blaster.received) of \(packets) arrived)")
        return false
    }
    let total = blaster.allocationsAtEnd - (mark.at ?? blaster.allocationsAtEnd)
    let library = srtpSessionAllocations(profile, packets: r.received, rtpLength: 1012)
    let outside = total - library
    let label = srtpProfileLabel(profile)
    print("srtp-path allocations (\(label)): \(r.received) of \(packets) RTP packets relayed through the encrypted demo call "
        + "(receive, protect, send, receive, unprotect, forward): \(total) in all, \(formatPerOp(total, r.received)) per packet; "
        + "libsrtp alone (SRTPSession protect+unprotect, same packets) \(library); outside libsrtp \(outside) (\(formatPerOp(max(0, outside), r.received)) per packet)")
    print("note: the check fails only on allocations outside libsrtp: a libsrtp2 on NSS (Debian's shared library) allocates per packet itself; "
        + "the one linked here allocates \(formatPerOp(library, r.received)) per protect+unprotect")
    if outside > 0 {
        print("FAIL: the daemon allocated on the encrypted packet path outside libsrtp")
        return false
    }
    return true
}
