import CLinux
import Common
import ICE
import Runtime
import SDP

/// `--signal stdio`: our description goes to stdout as SDP text ending with an empty line,
/// then one `a=candidate:...` line per trickled candidate and `a=end-of-candidates`. The peer's
/// arrives on stdin in the same form. Logs stay on stderr.
public final class StdioSignaling: SignalingTransport, ReadableHandler {
    let loop: EventLoop
    var inbox = OwnerEvents<SignalingMessage>()
    var pending: [UInt8] = []
    var description: [String] = []
    var inDescription = true
    public internal(set) var eof = false
    /// A peer description is bounded (SessionDescription.maxLines); so is a line.
    static let maxLine = 4096

    public init(loop: EventLoop) { self.loop = loop }

    public func sendDescription(_ sdp: String) {
        // The SDP uses CRLF; an empty line ends it for the reader.
        writeStdout(sdp + "\r\n")
    }

    public func sendCandidate(_ c: Candidate, local: Credentials) { writeStdout("a=" + CandidateLine.format(c) + "\r\n") }
    public func sendEndOfCandidates(local: Credentials) { writeStdout("a=end-of-candidates\r\n") }
    /// A new description, as the first one was sent: the peer sees a new ufrag (RFC 8445 §9).
    public func sendRestart(description: String, fragment: String) { sendDescription(description) }

    public var inboundDeadline: Instant? { inbox.deadline }
    public func pollInbound() -> SignalingMessage? { inbox.pop() }

    public func readable(now: Instant) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n <= 0 {
            if n < 0 && ice_errno() == ice_EINTR { return }
            eof = true
            loop.unregister(fd: 0)
            if !pending.isEmpty {
                let last = String(decoding: pending, as: UTF8.self)
                pending.removeAll()
                handleLine(last.hasSuffix("\r") ? String(last.dropLast()) : last, now: now)
            }
            // End of input also ends a description that lacked its closing empty line.
            if inDescription && !description.isEmpty { handleLine("", now: now) }
            inbox.push(.closed, now: now)
            return
        }
        pending.append(contentsOf: chunk[0..<n])
        while let nl = pending.firstIndex(of: 0x0A) {
            var line = String(decoding: pending[0..<nl], as: UTF8.self)
            pending.removeSubrange(0...nl)
            if line.hasSuffix("\r") { line.removeLast() }
            handleLine(line, now: now)
        }
        if pending.count > Self.maxLine {
            Log.warning("signaling: line longer than \(Self.maxLine) bytes dropped")
            pending.removeAll()
        }
    }

    func handleLine(_ line: String, now: Instant) {
        if inDescription {
            if line.isEmpty {
                guard !description.isEmpty else { return }  // blank lines before the description
                inDescription = false
                inbox.push(.description(description.joined(separator: "\r\n") + "\r\n"), now: now)
                description.removeAll()
            } else if description.count < SessionDescription.maxLines {
                description.append(line)
            }
            return
        }
        if line.isEmpty { return }
        if line == "v=0" {
            // A later description (an ICE restart, RFC 8445 §9): read up to its empty line.
            inDescription = true
            description = [line]
            return
        }
        if line == "a=end-of-candidates" {
            inbox.push(.endOfCandidates, now: now)
        } else if line.hasPrefix("a=candidate:") {
            do throws(SDPError) {
                inbox.push(.candidate(try CandidateLine.parse(Substring(line))), now: now)
            } catch {
                Log.warning("signaling: \(error.description): \(line)")
            }
        } else {
            Log.debug("signaling: ignored line: \(line)")
        }
    }
}
