import Foundation
import TestSupport
import Testing

/// A web viewer of the doorbell: headless Chromium POSTs a WHIP-style offer (RFC 9725) from a
/// page to `ice-agent answer --listen` and must decode the camera's video over DTLS-SRTP
/// (RFC 5763, RFC 5764) on a nominated pair. `interop/browser/run_browser.py` builds two network
/// namespaces joined by a veth pair (Chromium and the page server in one, ice-agent, the GStreamer
/// camera and the --rtp-out sink in the other; nothing reaches the machine's interfaces), runs
/// one viewer and prints one JSON line. The aiortc answerer (`interop/browser/aiortc_whip.py`, an
/// independent DTLS-SRTP stack) is the control: when it passes and ice-agent does not, the fault
/// is ice-agent's, not the harness's.
/// Needs root and what `scripts/install-deps` installs: chromium, python3-websocket,
/// gstreamer1.0-tools, -plugins-good, -plugins-ugly, aiortc for /usr/bin/python3.
@Suite(.serialized) struct BrowserTests {
    struct Viewer {
        var peer = "ice-agent"
        var codec = "VP8"
        var mdns = true
        var intercom = false
        var foreignOrigin = false
    }

    @Test func chromiumDecodesOurVP8() throws { try expectVideo(Viewer(codec: "VP8")) }
    @Test func chromiumDecodesOurH264() throws { try expectVideo(Viewer(codec: "H264")) }
    /// Host candidates with their addresses instead of mDNS names.
    @Test func chromiumDecodesOurVideoWithoutMDNSCandidates() throws { try expectVideo(Viewer(mdns: false)) }
    /// The intercom: the visitor's page sends Opus (Chromium's fake capture device) and it
    /// leaves ice-agent's --rtp-out decrypted.
    @Test func chromiumIntercomAudioLeavesRTPOutDecrypted() throws { try expectVideo(Viewer(intercom: true)) }

    @Test func aPageOfAnotherOriginIsBlocked() throws {
        let (r, context) = try viewer(Viewer(foreignOrigin: true))
        // The preflight got no Access-Control-Allow-Origin: Chromium fails the page's fetch.
        #expect(r["stage"] as? String == "fetch", "the page's POST was not blocked\n\(context)")
        #expect((r["error"] as? String)?.contains("Failed to fetch") == true, "\(context)")
        let console = (r["console"] as? [String] ?? []).joined(separator: "\n")
        #expect(console.contains("blocked by CORS policy"), "\(context)")
        // Not an unreachable server: a no-cors request from the same page got through.
        #expect(r["reachable_without_cors"] as? Bool == true, "\(context)")
        #expect(r["answerer_sessions"] as? Int == 0, "a session was made for a blocked page\n\(context)")
        #expect(r["ok"] as? Bool == true, "\(context)")
    }

    // The harness against aiortc: it must reach decoded frames whatever ice-agent does.
    @Test func harnessControlAiortcVP8() throws { try expectVideo(Viewer(peer: "aiortc", codec: "VP8")) }
    @Test func harnessControlAiortcH264Intercom() throws {
        try expectVideo(Viewer(peer: "aiortc", codec: "H264", mdns: false, intercom: true))
    }

    // MARK: Running a viewer

    func viewer(_ v: Viewer) throws -> ([String: Any], String) {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is not installed: run `apt-get install python3` (or scripts/install-deps)")
        }
        let script = repoRoot.appendingPathComponent("interop/browser/run_browser.py").path
        var arguments = [script, "--peer", v.peer, "--codec", v.codec, "--timeout", "20", "--ice-agent", try iceAgentPath()]
        if !v.mdns { arguments.append("--no-mdns") }
        if v.intercom { arguments.append("--intercom") }
        if v.foreignOrigin { arguments.append("--foreign-origin") }
        let r = try run(python, arguments, timeout: 120)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let data = line.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure("run_browser.py gave no JSON result (exit \(r.status))\n\(r.stdout)\n\(r.stderr)")
        }
        if r.status == 2 || json["missing"] as? Bool == true {
            // A missing dependency: fail with its install command.
            throw TestFailure("browser test dependency missing: \(json["error"] as? String ?? line)")
        }
        return (json, Self.describe(json) + "\n" + r.stderr)
    }

    func expectVideo(_ v: Viewer) throws {
        let (r, context) = try viewer(v)
        let stage = r["stage"] as? String ?? "?"
        let error = r["error"] as? String ?? ""
        // Each stage's failure says what Chromium said (verbatim) before anything else.
        if stage == "setRemoteDescription" {
            Issue.record("Chromium refused \(v.peer)'s answer: \(error)\n\(context)")
            return
        }
        guard stage == "media" || stage == "no-media" else {
            Issue.record("the viewer stopped at \(stage): \(error)\n\(context)")
            return
        }
        let media = r["media"] as? [String: Any] ?? [:]
        let pair = media["pair"] as? [String: Any] ?? [:]
        #expect(media["framesDecoded"] as? Int ?? 0 > 0, "no decoded video frame: \(error)\n\(context)")
        #expect(pair["nominated"] as? Bool == true, "the selected pair is not nominated\n\(context)")
        #expect(media["dtlsState"] as? String == "connected", "\(context)")
        // One of the use_srtp profiles ice-agent offers and accepts (RFC 5764 §4.1.2, RFC 7714
        // §14.2), by the names Chromium's getStats gives (IANA's, or the older short ones).
        // Chromium, the DTLS server here, prefers AES_CM_128_HMAC_SHA1_80 as ice-agent does.
        let ours = ["SRTP_AES128_CM_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_80", "SRTP_AEAD_AES_128_GCM", "AEAD_AES_128_GCM"]
        #expect(ours.contains(media["srtpCipher"] as? String ?? "none"), "SRTP profile \(media["srtpCipher"] ?? "none")\n\(context)")
        #expect((media["videoCodec"] as? String)?.lowercased() == "video/" + v.codec.lowercased(), "\(context)")
        if !v.mdns {
            // Chromium's host candidate carries its address, not a .local name.
            #expect((pair["local"] as? String)?.contains("198.51.100.1:") == true, "\(context)")
        }
        if v.intercom {
            if let answer = r["answer"] as? String, answer.contains("\r\nm=audio 0 ") {
                Issue.record("\(v.peer) rejected the page's audio section (m=audio 0): the intercom needs Opus sendrecv\n\(context)")
                return
            }
            #expect(media["audioPacketsSent"] as? Int ?? 0 > 20, "the page sent no audio\n\(context)")
            if v.peer == "aiortc" {
                let aiortc = r["aiortc"] as? [String: Any] ?? [:]
                #expect(aiortc["audio_frames"] as? Int ?? 0 > 0, "aiortc decoded no audio\n\(context)")
            } else {
                try expectDecryptedOpus(r, context)
            }
        }
        #expect(r["ok"] as? Bool == true, "\(context)")
    }

    /// What --rtp-out delivered: RTP version 2, the answer's Opus payload type, and payloads
    /// whose first byte is an Opus TOC (RFC 6716 §3.1) for one 20 ms frame, as Chromium's are
    /// (measured: 100% of them, in SILK, hybrid and CELT modes); SRTP leaves the header in clear
    /// but its payload would start with a random byte (about 7% would pass).
    func expectDecryptedOpus(_ r: [String: Any], _ context: String) throws {
        let out = r["rtp_out"] as? [String: Any] ?? [:]
        let opus = try #require(r["opus_pt"] as? Int, "the answer has no Opus payload type\n\(context)")
        let packets = out["packets"] as? Int ?? 0
        #expect(packets > 20, "--rtp-out got \(packets) datagrams\n\(context)")
        #expect(out["rtp_v2"] as? Int == packets, "not all of --rtp-out's datagrams are RTP version 2\n\(context)")
        let types = out["payload_types"] as? [String: Int] ?? [:]
        #expect(types["\(opus)"] ?? 0 > 20, "--rtp-out: payload types \(types), Opus is \(opus)\n\(context)")
        let share = (out["opus_20ms_share"] as? [String: Any])?["\(opus)"] as? Double ?? 0
        #expect(share > 0.9, "Opus payloads look encrypted (an Opus TOC of one 20 ms frame in \(share) of them)\n\(context)")
    }

    /// The result without the SDP bodies first, then the answer (what Chromium judged).
    static func describe(_ r: [String: Any]) -> String {
        var brief = r
        for k in ["answer", "offer", "answerer_log_tail"] { brief.removeValue(forKey: k) }
        let text = (try? JSONSerialization.data(withJSONObject: brief, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "\(brief)"
        var out = "result: " + text
        if let answer = r["answer"] as? String { out += "\nanswer:\n" + answer }
        if let log = r["answerer_log_tail"] as? String { out += "\nanswerer log (tail):\n" + log }
        return out
    }
}
