import Foundation
import TestSupport
import Testing

/// The doorbell calls a WebRTC home: `ice-agent call http://.../whip` (RFC 9725 signaling: the
/// offer POST, trickle PATCHes, DELETE) streams the GStreamer camera over DTLS-SRTP (RFC 5763,
/// RFC 5764) to aiortc (`interop/browser/aiortc_whip.py`, an independent WebRTC stack), which
/// must decode it. `interop/browser/run_call.py` runs both in network namespaces of its own and
/// prints one JSON line. Needs root and what `scripts/install-deps` installs (aiortc for
/// /usr/bin/python3, GStreamer, python3-websocket, chromium).
@Suite(.serialized) struct WebRTCHomeTests {
    @Test func aiortcHomeDecodesOurVP8Call() throws { try expectDecoded(codec: "VP8") }
    @Test func aiortcHomeDecodesOurH264Call() throws { try expectDecoded(codec: "H264") }
    /// A home that offers and accepts only SRTP_AEAD_AES_128_GCM (RFC 7714 §14.2) gets it.
    @Test func aiortcHomeAcceptingOnlyGCMDecodesOurCall() throws {
        try expectDecoded(codec: "VP8", aiortcProfiles: "SRTP_AEAD_AES_128_GCM", expectedProfile: "SRTP_AEAD_AES_128_GCM")
    }

    /// `expectedProfile`: the use_srtp profile (RFC 5764 §4.1.1) aiortc must report, by OpenSSL's
    /// name; by default ice-agent's preferred one, AES_CM_128_HMAC_SHA1_80 (DTLSEndpoint's
    /// defaultProfiles), which it chooses as the DTLS server of its offer (aiortc answers
    /// a=setup:active).
    func expectDecoded(codec: String, aiortcProfiles: String? = nil,
                       expectedProfile: String = "SRTP_AES128_CM_SHA1_80") throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is not installed: run `apt-get install python3` (or scripts/install-deps)")
        }
        let script = repoRoot.appendingPathComponent("interop/browser/run_call.py").path
        var arguments = [script, "--codec", codec, "--seconds", "8", "--ice-agent", try iceAgentPath()]
        if let aiortcProfiles { arguments += ["--aiortc-srtp-profiles", aiortcProfiles] }
        let r = try run(python, arguments, timeout: 90)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let data = line.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure("run_call.py gave no JSON result (exit \(r.status))\n\(r.stdout)\n\(r.stderr)")
        }
        if r.status == 2 || json["missing"] as? Bool == true {
            throw TestFailure("dependency missing: \(json["error"] as? String ?? line)")
        }
        let aiortc = json["aiortc"] as? [String: Any] ?? [:]
        let context = "\(line)\n\(json["doorbell_log_tail"] as? String ?? "")\n\(r.stderr)"
        // aiortc's refusal of our offer first, verbatim: the likeliest failure, and the clearest.
        if let error = aiortc["error"] as? String {
            Issue.record("aiortc refused ice-agent's offer: \(error)\n\(context)")
            return
        }
        #expect(aiortc["answers"] as? Int == 1, "\(context)")
        let failure = aiortc["failure"] as? String ?? "no error reported"
        #expect(aiortc["connected"] as? Bool == true, "aiortc never connected (ICE + DTLS): \(failure)\n\(context)")
        #expect(aiortc["video_frames_received"] as? Int ?? 0 > 0, "aiortc decoded no video\n\(context)")
        #expect(aiortc["video_size"] as? String == "320x240", "\(context)")
        #expect(aiortc["srtp_profile"] as? String == expectedProfile, "\(context)")
        // The doorbell streamed only video: aiortc sent none back on a sendonly offer.
        #expect(aiortc["video_frames_sent"] as? Int == 0, "\(context)")
        #expect(json["ice_agent_exit"] as? Int == 0, "\(context)")
        #expect(json["ok"] as? Bool == true, "\(context)")
    }
}
