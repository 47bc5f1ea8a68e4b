#!/usr/bin/python3
"""Headless Chromium as a WHIP-style viewer, driven over the DevTools protocol (python3-websocket).

Runs inside the browser's network namespace (run_browser.py starts it there with `ip netns
exec`): launches /usr/lib/chromium/chromium, opens viewer.html from PAGE_URL, calls
startViewer() (the page POSTs its own offer to the WHIP URL with the bearer token), prints
`{"event": "answered", ...}` on stdout once the answer is applied (the orchestrator then starts
the camera with the answer's payload type), polls getStats() with waitForMedia() and prints the
final JSON result line. Chromium's processes are its own process group, ended on the way out.
"""

import argparse
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/lib/chromium/chromium"


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


class CDP:
    """One DevTools websocket: commands by id, events kept for later."""

    def __init__(self, url):
        import websocket  # python3-websocket

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
        raise TimeoutError(method)

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def launch(args, profile, log):
    """Starts Chromium; returns (process, DevTools browser websocket URL)."""
    # Only the last --disable-features counts: one list. Leaving WebRtcHideLocalIpsWithMdns out
    # keeps Chromium's default (host candidates as <uuid>.local), what real users send.
    disabled = ["MediaRouter", "OptimizationHints", "Translate", "DialMediaRouteProvider"]
    if not args.mdns:
        disabled.append("WebRtcHideLocalIpsWithMdns")
    excluded = " , ".join("EXCLUDE " + h for h in ["127.0.0.1", "*.local"] + args.resolver_exclude)
    flags = [
        "--headless=new", "--no-sandbox", "--user-data-dir=" + profile, "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-default-browser-check",
        "--metrics-recording-only", "--autoplay-policy=no-user-gesture-required",
        "--host-resolver-rules=MAP * ~NOTFOUND , " + excluded,
        "--disable-features=" + ",".join(disabled),
    ]
    if args.audio:
        flags += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    p = subprocess.Popen([CHROMIUM] + flags + ["about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    deadline = time.monotonic() + 30
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 0.2)
        if r:
            chunk = os.read(p.stderr.fileno(), 65536)
            if not chunk:
                break
            log.write(chunk)
            buf += chunk
            m = re.search(rb"DevTools listening on (ws://\S+)", buf)
            if m:
                # Keep draining stderr so Chromium never blocks on a full pipe.
                import threading

                def drain():
                    while True:
                        c = os.read(p.stderr.fileno(), 65536)
                        if not c:
                            return
                        log.write(c)
                        log.flush()

                threading.Thread(target=drain, daemon=True).start()
                return p, m.group(1).decode()
        if p.poll() is not None:
            break
    raise RuntimeError("Chromium did not start (exit %s): %s" % (p.poll(), buf.decode(errors="replace")[-2000:]))


def stop_chromium(p):
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)  # the group Chromium's start made: its own processes only
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def evaluate(cdp, session, expression, timeout=60):
    r = cdp.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                 session=session, timeout=timeout)
    if "exceptionDetails" in r:
        d = r["exceptionDetails"]
        raise RuntimeError("page exception: %s" % (d.get("exception", {}).get("description") or d.get("text")))
    return r["result"].get("value")


def console_lines(cdp):
    out = []
    for e in cdp.events:
        if e.get("method") == "Log.entryAdded":
            entry = e["params"]["entry"]
            out.append("%s: %s" % (entry.get("level"), entry.get("text")))
        elif e.get("method") == "Runtime.consoleAPICalled":
            args = e["params"].get("args", [])
            out.append("console.%s: %s" % (e["params"].get("type"), " ".join(str(a.get("value", a.get("description"))) for a in args)))
    return out[-30:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True, help="viewer.html's URL (its origin is the page's origin)")
    ap.add_argument("--whip", required=True, help="the WHIP endpoint the page POSTs to")
    ap.add_argument("--token", default="")
    ap.add_argument("--codec", default="", help="VP8 or H264 first in the offer")
    ap.add_argument("--audio", action="store_true", help="a sendrecv audio transceiver from the fake capture device")
    ap.add_argument("--no-mdns", dest="mdns", action="store_false", help="host candidates with their addresses")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds for media after the answer")
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep the call up after media")
    ap.add_argument("--probe", action="store_true", help="first check the WHIP URL is reachable without CORS")
    ap.add_argument("--resolver-exclude", action="append", default=[], help="hosts Chromium may resolve")
    ap.add_argument("--log", required=True, help="file for Chromium's stderr")
    args = ap.parse_args()

    result = {"stage": "start", "error": None}
    t0 = time.monotonic()
    profile = tempfile.mkdtemp(prefix="ice-chromium-")
    proc = None
    cdp = None
    with open(args.log, "ab") as log:
        try:
            proc, browser_url = launch(args, profile, log)
            result["launch_ms"] = round((time.monotonic() - t0) * 1000)
            cdp = CDP(browser_url)
            target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            cdp.call("Runtime.enable", session=session)
            cdp.call("Log.enable", session=session)
            cdp.call("Page.enable", session=session)
            cdp.call("Page.navigate", {"url": args.page}, session=session)
            deadline = time.monotonic() + 15
            while evaluate(cdp, session, "document.readyState === 'complete' && typeof startViewer === 'function'") is not True:
                if time.monotonic() > deadline:
                    raise RuntimeError("viewer page did not load from " + args.page)
                time.sleep(0.05)
            result["page_origin"] = evaluate(cdp, session, "location.origin")
            if args.probe:
                result["reachable_without_cors"] = evaluate(cdp, session, "reachable(%s)" % json.dumps(args.whip))
            options = {"whip": args.whip, "token": args.token, "codec": args.codec, "audio": args.audio}
            started = evaluate(cdp, session, "startViewer(%s)" % json.dumps(options), timeout=30)
            result.update({k: started.get(k) for k in ("stage", "error", "status", "offer", "answer", "location", "etag")})
            result["answer_ms"] = started.get("ms")
            if started["stage"] == "answered":
                emit({"event": "answered", "answer": started["answer"], "offer": started["offer"]})
                # An answer that rejected the audio section (port 0) gets no audio to wait for.
                want_audio = args.audio and "\r\nm=audio 0 " not in started["answer"]
                media = evaluate(cdp, session, "waitForMedia(%d, %s)" % (args.timeout * 1000, json.dumps(want_audio)),
                                 timeout=args.timeout + 15)
                result["media"] = media
                result["stage"] = "media" if media.get("done") else "no-media"
                if media.get("done") and args.hold > 0:
                    result["media"] = evaluate(cdp, session, "holdFor(%d)" % (args.hold * 1000), timeout=args.hold + 15)
                    result["media"]["done"] = True
                if not media.get("done"):
                    result["error"] = "no decoded frame on a nominated pair within %g s (ICE %s, DTLS %s)" % (
                        args.timeout, media.get("iceState"), media.get("dtlsState"))
                # The page's transition times (viewer.times), for bench_browser.py.
                result["times"] = evaluate(cdp, session, "viewer.times || null")
                result["stop"] = evaluate(cdp, session, "stopViewer()", timeout=15)
        except Exception as e:
            result["error"] = result.get("error") or "%s: %s" % (type(e).__name__, e)
        finally:
            if cdp:
                result["console"] = console_lines(cdp)
                cdp.close()
            stop_chromium(proc)
            shutil.rmtree(profile, ignore_errors=True)
    result["event"] = "result"
    result["elapsed_ms"] = round((time.monotonic() - t0) * 1000)
    emit(result)


if __name__ == "__main__":
    main()
