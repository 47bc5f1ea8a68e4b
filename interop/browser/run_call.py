#!/usr/bin/python3
"""The doorbell calls an independent WebRTC home: `ice-agent call http://.../whip` (WHIP-style
signaling, RFC 9725: POST offer, trickle PATCHes, DELETE) streams the GStreamer camera to
aiortc_whip.py, which must decode it over DTLS-SRTP. One JSON result line.

    run_call.py [--ice-agent PATH] [--codec VP8|H264] [--seconds S] [--keep-logs]

The same two namespaces as run_browser.py: aiortc answers on http://198.51.100.1:8080/whip in
the first, ice-agent calls from the second (va0 198.51.100.2), the camera feeds its --rtp-in
127.0.0.1:5004 with the payload type of its offer. Exit status 0 when aiortc decoded video
and ice-agent exited 0, 1 when not, 2 when something is missing.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time

import run_browser as rb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ice-agent", default=os.path.join(rb.ROOT, ".build/debug/ice-agent"))
    ap.add_argument("--codec", choices=["VP8", "H264"], default="VP8")
    ap.add_argument("--seconds", type=int, default=8, help="the call's --duration")
    ap.add_argument("--log-level", default="debug")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--aiortc-srtp-profiles", default="", help="aiortc_whip.py's --srtp-profiles")
    args = ap.parse_args()
    # A parent may have blocked these (a test runner's thread): SIGTERM must stop us, and our children.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args.ice_agent = os.path.abspath(args.ice_agent)
    args.peer = "ice-agent"
    try:
        rb.check_dependencies(args)
        args.peer = "aiortc"
        rb.check_dependencies(args)
    except rb.Missing as e:
        print(json.dumps({"ok": False, "error": str(e), "missing": True}))
        sys.exit(2)
    rb.cleanup_stale_namespaces()
    # Run's camera() reads codec; the rest of its options are not used here.
    args.foreign_origin, args.timeout = False, float(args.seconds)
    run = rb.Run(args)
    home_ns, door_ns = run.browser_ns, run.agent_ns
    signal.signal(signal.SIGTERM, lambda *_: (run.teardown(), sys.exit(1)))
    result = {"codec": args.codec, "ok": False}
    code = 1
    try:
        t0 = time.monotonic()
        run.setup_network()
        token_file = os.path.join(run.logdir, "token")
        with open(token_file, "w") as f:
            f.write(os.urandom(16).hex() + "\n")
        summary = os.path.join(run.logdir, "aiortc.json")
        home = run.start(home_ns, "home", [rb.PYTHON, os.path.join(rb.HERE, "aiortc_whip.py"), "--listen",
                                           "%s:%d" % (rb.BROWSER_IP, rb.WHIP_PORT), "--token-file", token_file,
                                           "--duration", str(args.seconds + 60), "--summary", summary]
                          + (["--srtp-profiles", args.aiortc_srtp_profiles] if args.aiortc_srtp_profiles else []))
        run.wait_log("home", "listening on http://", home)
        pt = 96
        run.camera(pt)
        cmd = [args.ice_agent, "call", "http://%s:%d/whip" % (rb.BROWSER_IP, rb.WHIP_PORT), "--token-file", token_file,
               "--interface", "va0", "--rtp-in", "127.0.0.1:%d" % rb.RTP_IN, "--payload-type", str(pt),
               "--duration", str(args.seconds), "--log-level", args.log_level]
        if args.codec == "VP8":
            cmd += ["--rtpmap", "VP8/90000", "--fmtp", ""]
        door = run.start(door_ns, "doorbell", cmd)
        try:
            door.wait(timeout=args.seconds + 30)
        except Exception:
            rb.stop(door)
        result["ice_agent_exit"] = door.returncode
        rb.stop(home)
        result["aiortc"] = rb.read_json(summary)
        result["doorbell_log_tail"] = run.log_text("doorbell")[-4000:]
        result["elapsed_ms"] = round((time.monotonic() - t0) * 1000)
        a = result["aiortc"] or {}
        result["error"] = a.get("error")
        result["ok"] = a.get("connected") is True and a.get("video_frames_received", 0) > 0 and door.returncode == 0
        code = 0 if result["ok"] else 1
    except rb.Missing as e:
        result.update({"error": str(e), "missing": True})
        code = 2
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        run.teardown()
        result["logdir"] = run.logdir if args.keep_logs else None
        if not args.keep_logs:
            shutil.rmtree(run.logdir, ignore_errors=True)
    print(json.dumps(result, sort_keys=True))
    sys.exit(code)


if __name__ == "__main__":
    main()
