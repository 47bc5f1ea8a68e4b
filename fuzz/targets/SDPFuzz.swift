// libFuzzer target over the SDP parsers (RFC 8866 with the RFC 8839 ICE attributes, RFC 8840
// trickle fragments): what `answer` reads from a WHIP POST body or stdin, and what a PATCH or
// a stdin trickle line carries. Built and run by `fuzz/run sdp`; see fuzz/README.md.
//
// Each input, as text, goes to `SessionDescription.parse`, `TrickleFragment.parse`, and line
// by line to `CandidateLine.parse`.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - what we serialize from a parsed description or fragment parses again (the peer and we
//     must accept our own output), with the same media sections, credentials and candidate
//     counts; only `tooLarge` may refuse it (serializing adds the v/o/s/t lines);
//   - a parsed candidate formats to a line that parses back to the same type, component,
//     transport, priority and address;
//   - limits hold: at most maxMedia sections and maxCandidates candidates.
// Nothing is printed.

import Common
import ICE
import SDP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let t = text(input)
    session(t)
    trickle(t)
    var n = 0
    for line in t.split(separator: "\n", omittingEmptySubsequences: true) {
        n += 1
        if n > 64 { break }
        candidate(line, line: n)
    }
    return 0
}

func session(_ t: String) {
    let d: SessionDescription
    do throws(SDPError) {
        d = try SessionDescription.parse(t)
    } catch {
        sink(error.description)
        return
    }
    require(d.media.count <= SessionDescription.maxMedia, "more m= sections than maxMedia")
    var total = 0
    for m in d.media { total += m.candidates.count }
    require(total + d.skippedCandidates.count <= SessionDescription.maxCandidates, "more candidates than maxCandidates")
    for i in 0..<max(1, d.media.count) { sink(d.credentials(media: i)) }
    let out = d.serialize()
    let again: SessionDescription
    do throws(SDPError) {
        again = try SessionDescription.parse(out)
    } catch {
        require(error.kind == .tooLarge, "a serialized description does not parse")
        return
    }
    require(again.media.count == d.media.count, "re-parse changed the m= sections")
    require(again.iceUfrag == d.iceUfrag && again.icePwd == d.icePwd, "re-parse changed the session credentials")
    require(again.iceLite == d.iceLite, "re-parse changed ice-lite")
    for i in 0..<d.media.count {
        let a = d.media[i], b = again.media[i]
        require(a.kind == b.kind && a.port == b.port && a.proto == b.proto, "re-parse changed an m= line")
        require(a.iceUfrag == b.iceUfrag && a.icePwd == b.icePwd, "re-parse changed media credentials")
        require(a.candidates.count == b.candidates.count, "re-parse changed a candidate count")
        require(a.endOfCandidates == b.endOfCandidates, "re-parse changed end-of-candidates")
        for j in 0..<a.candidates.count { same(a.candidates[j], b.candidates[j]) }
    }
}

func trickle(_ t: String) {
    let f: TrickleFragment
    do throws(SDPError) {
        f = try TrickleFragment.parse(t)
    } catch {
        sink(error.description)
        return
    }
    require(f.candidates.count + f.skippedCandidates.count <= SessionDescription.maxCandidates,
            "more trickled candidates than maxCandidates")
    let again: TrickleFragment
    do throws(SDPError) {
        again = try TrickleFragment.parse(f.serialize())
    } catch {
        require(error.kind == .tooLarge, "a serialized fragment does not parse")
        return
    }
    require(again.candidates.count == f.candidates.count, "fragment re-parse changed the candidates")
    require(again.endOfCandidates == f.endOfCandidates, "fragment re-parse changed end-of-candidates")
    for j in 0..<f.candidates.count { same(f.candidates[j], again.candidates[j]) }
}

func candidate(_ line: Substring, line n: Int) {
    let c: Candidate
    do throws(SDPError) {
        c = try CandidateLine.parse(line, line: n)
    } catch {
        require(error.line == n, "a candidate error names another line")
        return
    }
    let formatted = CandidateLine.format(c)
    do throws(SDPError) {
        same(c, try CandidateLine.parse(formatted[...], line: n))
    } catch {
        fail("a formatted candidate does not parse")
    }
}

func same(_ a: Candidate, _ b: Candidate) {
    require(a.type == b.type && a.component == b.component && a.transport == b.transport,
            "candidate round trip changed type, component or transport")
    require(a.priority == b.priority, "candidate round trip changed the priority")
    require(a.address == b.address, "candidate round trip changed the address")
}
