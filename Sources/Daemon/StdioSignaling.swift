import CLinux
import Common
import ICE
import Runtime
import SDP

/// `--signal stdio`: our description goes to stdout as SDP text ending with an empty line,
/// then one `a=candidate:...` line per trickled candidate and `a=end-of-candidates`. The peer's
/// arrives on stdin in the same form. Logs stay on stderr.
public final class StdioSignaling: SignalingSink, ReadableHandler {
    let session: Session
    var pending: [UInt8] = []
    var description: [String] = []
    var inDescription = true
    public internal(set) var eof = false
    /// Stop the loop when stdin ends before a usable peer description: no peer can come any
    /// more. Off when the run is bounded otherwise (`--duration`): a peerless agent is then a
    /// way to watch gathering, TURN and the status socket for that long.
    public var endWithoutPeer = true
    /// A peer description is bounded (SessionDescription.maxLines); so is a line.
    static let maxLine = 4096

    public init(session: Session) { self.session = session }

    public func sendDescription(_ sdp: String) {
        // The SDP uses CRLF; an empty line ends it for the reader.
        writeStdout(sdp + "\r\n")
    }

    public func sendCandidate(_ c: Candidate) { writeStdout("a=" + CandidateLine.format(c) + "\r\n") }
    public func sendEndOfCandidates() { writeStdout("a=end-of-candidates\r\n") }

    public func readable(now: Instant) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n <= 0 {
            if n < 0 && ice_errno() == ice_EINTR { return }
            eof = true
            session.loop.unregister(fd: 0)
            if !pending.isEmpty {
                let last = String(decoding: pending, as: UTF8.self)
                pending.removeAll()
                handleLine(last.hasSuffix("\r") ? String(last.dropLast()) : last, now: now)
            }
            // End of input also ends a description that lacked its closing empty line.
            if inDescription && !description.isEmpty { handleLine("", now: now) }
            if !session.remoteDescriptionReceived && endWithoutPeer {
                Log.error("signaling: stdin closed before the peer's description: no peer")
                session.loop.stop()
            }
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
                do throws(SDPError) {
                    try session.receiveDescription(description.joined(separator: "\r\n") + "\r\n", now: now)
                } catch {
                    Log.error("signaling: peer description rejected: \(error.description)")
                }
                description.removeAll()
            } else if description.count < SessionDescription.maxLines {
                description.append(line)
            }
            return
        }
        if line.isEmpty { return }
        if line == "a=end-of-candidates" {
            session.receiveEndOfCandidates(now: now)
        } else if line.hasPrefix("a=candidate:") {
            do throws(SDPError) {
                session.receiveCandidate(try CandidateLine.parse(Substring(line)), now: now)
            } catch {
                Log.warning("signaling: \(error.description): \(line)")
            }
        } else {
            Log.debug("signaling: ignored line: \(line)")
        }
    }
}
