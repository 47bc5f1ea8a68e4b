#!/usr/bin/python3
"""Headless Chromium receives the doorbell's video from a WHIP-style answerer, each in a network
namespace of its own, and one JSON result line says how far it got.

    run_browser.py [--peer ice-agent|aiortc] [--ice-agent PATH] [--codec VP8|H264] [--no-mdns]
                   [--intercom] [--foreign-origin] [--timeout S] [--keep-logs]

Topology (root; both namespaces are deleted afterwards, on failure and on SIGTERM too):
  icebrB-<id>: Chromium (cdp_viewer.py) and the viewer page's HTTP server on 127.0.0.1:8000,
               vb0 198.51.100.1/24, default route via 198.51.100.2 (the agent's namespace does
               not forward, so nothing leaves the pair)
  icebrA-<id>: the answerer on http://198.51.100.2:8080/whip, va0 198.51.100.2/24; for
               ice-agent also the GStreamer camera into --rtp-in 127.0.0.1:5004 and, with
               --intercom, rtp_sink.py on --rtp-out 127.0.0.1:5006.
The page's origin is http://127.0.0.1:8000; the answerer allows it with --allow-origin (with
--foreign-origin it allows http://127.0.0.1:8001 instead, and the page's POST must be blocked).

Exit status: 0 when the run did what it should, 1 when not, 2 when a dependency is missing or
the namespaces cannot be made (the JSON's "error" then has the install command).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
CHROMIUM = "/usr/lib/chromium/chromium"
BROWSER_IP, AGENT_IP = "198.51.100.1", "198.51.100.2"
PAGE_PORT, FOREIGN_PORT, WHIP_PORT, RTP_IN, RTP_OUT = 8000, 8001, 8080, 5004, 5006
INSTALL = "scripts/install-deps (or: apt-get install %s)"


class Missing(Exception):
    pass


def check_dependencies(args):
    if os.geteuid() != 0:
        raise Missing("network namespaces need root: run as root")
    if not shutil.which("ip"):
        raise Missing("ip is not installed: run `%s`" % (INSTALL % "iproute2"))
    if not os.access(CHROMIUM, os.X_OK):
        raise Missing("%s is not installed: run `%s`" % (CHROMIUM, INSTALL % "chromium"))
    try:
        import websocket  # noqa: F401
    except ImportError:
        raise Missing("python3-websocket is not installed: run `%s`" % (INSTALL % "python3-websocket"))
    if args.peer == "ice-agent":
        if not os.access(args.ice_agent, os.X_OK):
            raise Missing("ice-agent not built at %s: run `swift build`" % args.ice_agent)
        if not shutil.which("gst-launch-1.0"):
            raise Missing("gst-launch-1.0 is not installed: run `%s`" % (INSTALL % "gstreamer1.0-tools"))
        plugins = {"vp8enc": "gstreamer1.0-plugins-good", "rtpvp8pay": "gstreamer1.0-plugins-good",
                   "x264enc": "gstreamer1.0-plugins-ugly", "rtph264pay": "gstreamer1.0-plugins-good",
                   "videotestsrc": "gstreamer1.0-plugins-base", "udpsink": "gstreamer1.0-plugins-good"}
        for element, package in plugins.items():
            if subprocess.run(["gst-inspect-1.0", "--exists", element]).returncode != 0:
                raise Missing("GStreamer element %s is missing: run `%s`" % (element, INSTALL % package))
    else:
        r = subprocess.run([PYTHON, "-c", "import aiortc"], capture_output=True)
        if r.returncode != 0:
            raise Missing("aiortc is not installed for %s: run `scripts/install-deps` "
                          "(pip install --break-system-packages aiortc==1.16.0)" % PYTHON)


def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise Missing("`%s` failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def cleanup_stale_namespaces():
    """Deletes namespaces a killed run left behind: ours by name, a minute old, nothing in them."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        if not name.startswith("icebr"):
            continue
        try:
            if time.time() - os.stat(os.path.join("/run/netns", name)).st_mtime < 60:
                continue
        except OSError:
            continue
        if not sh("ip", "netns", "pids", name, check=False).stdout.split():
            sh("ip", "netns", "delete", name, check=False)


class Run:
    def __init__(self, args):
        self.args = args
        tag = secrets.token_hex(3)
        self.browser_ns, self.agent_ns = "icebrB-" + tag, "icebrA-" + tag
        self.made = []
        self.procs = []
        self.logdir = tempfile.mkdtemp(prefix="ice-browser-")
        self.origin = "http://127.0.0.1:%d" % PAGE_PORT

    # Namespaces

    def setup_network(self):
        for ns in (self.browser_ns, self.agent_ns):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # The veth pair is made inside the browser's namespace with its peer moved straight to the
        # agent's: no interface ever appears in the machine's own namespace.
        sh("ip", "-n", self.browser_ns, "link", "add", "vb0", "type", "veth", "peer", "name", "va0", "netns", self.agent_ns)
        sh("ip", "-n", self.browser_ns, "addr", "add", BROWSER_IP + "/24", "dev", "vb0")
        sh("ip", "-n", self.agent_ns, "addr", "add", AGENT_IP + "/24", "dev", "va0")
        sh("ip", "-n", self.browser_ns, "link", "set", "vb0", "up")
        sh("ip", "-n", self.agent_ns, "link", "set", "va0", "up")
        # Chromium gathers on the default route's interface.
        sh("ip", "-n", self.browser_ns, "route", "add", "default", "via", AGENT_IP)

    def teardown(self):
        for p, _name, _log in reversed(self.procs):
            stop(p)
        for ns in self.made:
            # Anything still inside was started by this run (the namespaces are its own).
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "delete", ns, check=False)
        self.made = []

    # Processes

    def start(self, ns, name, cmd, stdout=None):
        log = open(os.path.join(self.logdir, name + ".log"), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=stdout or log, stderr=log,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((p, name, log))
        return p

    def log_text(self, name):
        try:
            with open(os.path.join(self.logdir, name + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, name, text, p, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.log_text(name):
                return True
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("%s did not start: %s" % (name, self.log_text(name)[-3000:]))

    def start_answerer(self, token_file):
        allowed = "http://127.0.0.1:%d" % (FOREIGN_PORT if self.args.foreign_origin else PAGE_PORT)
        listen = "%s:%d" % (AGENT_IP, WHIP_PORT)
        seconds = str(int(self.args.timeout + 60))
        if self.args.peer == "ice-agent":
            cmd = [self.args.ice_agent, "answer", "--listen", listen, "--token-file", token_file, "--allow-origin", allowed,
                   "--interface", "va0", "--rtp-in", "127.0.0.1:%d" % RTP_IN, "--rtp-out", "127.0.0.1:%d" % RTP_OUT,
                   "--duration", seconds, "--log-level", self.args.log_level]
            if self.args.codec == "VP8":
                cmd += ["--rtpmap", "VP8/90000", "--fmtp", ""]
            if self.args.intercom:
                cmd.append("--intercom")
            p = self.start(self.agent_ns, "answerer", cmd)
            self.wait_log("answerer", "listening on http://", p)
        else:
            cmd = [PYTHON, os.path.join(HERE, "aiortc_whip.py"), "--listen", listen, "--token-file", token_file,
                   "--allow-origin", allowed, "--codec", self.args.codec, "--duration", seconds,
                   "--summary", os.path.join(self.logdir, "aiortc.json")]
            p = self.start(self.agent_ns, "answerer", cmd)
            self.wait_log("answerer", "listening on http://", p)
        return p

    def camera(self, pt):
        """GStreamer's test pattern as RTP into --rtp-in, with a key frame every second: the
        browser can decode from whenever the relay starts forwarding."""
        src = ["videotestsrc", "is-live=true", "!", "video/x-raw,width=320,height=240,framerate=15/1", "!"]
        if self.args.codec == "H264":
            enc = ["x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=15", "!",
                   "video/x-h264,profile=constrained-baseline", "!", "rtph264pay", "pt=%d" % pt, "config-interval=1"]
        else:
            enc = ["vp8enc", "deadline=1", "keyframe-max-dist=15", "!", "rtpvp8pay", "pt=%d" % pt]
        sink = ["!", "udpsink", "host=127.0.0.1", "port=%d" % RTP_IN]
        self.start(self.agent_ns, "gstreamer", ["gst-launch-1.0", "-q"] + src + enc + sink)

    def run(self):
        a = self.args
        result = {"peer": a.peer, "codec": a.codec, "mdns": a.mdns, "intercom": a.intercom,
                  "origin_allowed": not a.foreign_origin, "page_origin": self.origin, "ok": False}
        t0 = time.monotonic()
        self.setup_network()
        token = secrets.token_hex(16)
        token_file = os.path.join(self.logdir, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        page_server = self.start(self.browser_ns, "page-server",
                                 [PYTHON, "-u", "-m", "http.server", str(PAGE_PORT), "--bind", "127.0.0.1", "--directory", HERE])
        self.wait_log("page-server", "Serving HTTP", page_server)
        answerer = self.start_answerer(token_file)
        sink = None
        if a.intercom and a.peer == "ice-agent":
            sink = self.start(self.agent_ns, "rtp-sink", [PYTHON, os.path.join(HERE, "rtp_sink.py"), "--listen",
                                                          "127.0.0.1:%d" % RTP_OUT, "--summary", os.path.join(self.logdir, "rtp-sink.json")])
            self.wait_log("rtp-sink", "rtp sink on", sink)
        viewer_cmd = [PYTHON, os.path.join(HERE, "cdp_viewer.py"), "--page", self.origin + "/viewer.html",
                      "--whip", "http://%s:%d/whip" % (AGENT_IP, WHIP_PORT), "--token", token, "--codec", a.codec,
                      "--timeout", str(a.timeout), "--log", os.path.join(self.logdir, "chromium.log"),
                      "--resolver-exclude", AGENT_IP]
        if a.intercom:
            viewer_cmd += ["--audio", "--hold", "3"]
        if not a.mdns:
            viewer_cmd.append("--no-mdns")
        if a.foreign_origin:
            viewer_cmd.append("--probe")
        viewer = self.start(self.browser_ns, "viewer", viewer_cmd, stdout=subprocess.PIPE)
        final = None
        killer = threading.Timer(a.timeout + 60, lambda: stop(viewer))
        killer.start()
        try:
            for line in viewer.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("event") == "answered" and a.peer == "ice-agent":
                    self.camera(video_payload_type(msg["answer"], a.codec))
                    result["opus_pt"] = payload_type(msg["answer"], "opus")
                    result["video_pt"] = video_payload_type(msg["answer"], a.codec)
                elif msg.get("event") == "result":
                    final = msg
        finally:
            killer.cancel()
        viewer.wait()
        if final is None:
            result["error"] = "the viewer gave no result: " + self.log_text("viewer")[-3000:]
            final = {}
        for k, v in final.items():
            if k not in ("event", "offer"):
                result[k] = v
        if "opus_pt" not in result and final.get("answer"):
            result["opus_pt"] = payload_type(final["answer"], "opus")
        if sink is not None:
            stop(sink)
            result["rtp_out"] = read_json(os.path.join(self.logdir, "rtp-sink.json"))
        stop(answerer)
        if a.peer == "aiortc":
            result["aiortc"] = read_json(os.path.join(self.logdir, "aiortc.json"))
        else:
            text = self.log_text("answerer")
            result["answerer_sessions"] = len(re.findall(r"signaling: session \d+ from", text))
            result["answerer_log_tail"] = text[-4000:]
        result["elapsed_ms"] = round((time.monotonic() - t0) * 1000)
        result["ok"] = verdict(result)
        result["logdir"] = self.logdir if a.keep_logs else None
        return result


def verdict(r):
    if not r["origin_allowed"]:
        # Blocked by CORS: the page saw a fetch error, the server was reachable without CORS,
        # and no session was made from the preflight.
        return r.get("stage") == "fetch" and r.get("reachable_without_cors") is True and not r.get("answerer_sessions") \
            and not (r.get("aiortc") or {}).get("answers")
    m = r.get("media") or {}
    ok = r.get("stage") == "media" and m.get("framesDecoded", 0) > 0 and (m.get("pair") or {}).get("nominated") is True
    if r["intercom"]:
        if r["peer"] == "aiortc":
            ok = ok and (r.get("aiortc") or {}).get("audio_frames", 0) > 0
        else:
            out = r.get("rtp_out") or {}
            pt = str(r.get("opus_pt"))
            ok = ok and out.get("packets", 0) > 20 and out.get("rtp_v2") == out.get("packets") \
                and out.get("payload_types", {}).get(pt, 0) > 20 and out.get("opus_20ms_share", {}).get(pt, 0) > 0.9
    return ok


def payload_type(sdp, encoding):
    m = re.search(r"a=rtpmap:(\d+) %s/" % re.escape(encoding), sdp or "", re.IGNORECASE)
    return int(m.group(1)) if m else None


def video_payload_type(sdp, codec):
    return payload_type(sdp, codec or "VP8") or 96


def read_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def stop(p):
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)  # the session start_new_session gave it: only its own processes
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=["ice-agent", "aiortc"], default="ice-agent")
    ap.add_argument("--ice-agent", default=os.path.join(ROOT, ".build/debug/ice-agent"))
    ap.add_argument("--codec", choices=["VP8", "H264"], default="VP8")
    ap.add_argument("--no-mdns", dest="mdns", action="store_false", help="Chromium's host candidates with their addresses")
    ap.add_argument("--intercom", action="store_true", help="the page also sends audio (fake capture device)")
    ap.add_argument("--foreign-origin", action="store_true", help="the answerer allows another origin than the page's")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds for media once the answer is applied")
    ap.add_argument("--log-level", default="debug")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    # A parent may have blocked these (a test runner's thread): SIGTERM must stop us, and our children.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args.ice_agent = os.path.abspath(args.ice_agent)
    try:
        check_dependencies(args)
    except Missing as e:
        print(json.dumps({"ok": False, "error": str(e), "missing": True}))
        sys.exit(2)
    cleanup_stale_namespaces()
    run = Run(args)

    def terminated(signum, _frame):
        run.teardown()
        sys.exit(1)

    signal.signal(signal.SIGTERM, terminated)
    code = 1
    try:
        result = run.run()
        code = 0 if result["ok"] else 1
    except Missing as e:
        result = {"ok": False, "error": str(e), "missing": True}
        code = 2
    except Exception as e:
        result = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    finally:
        run.teardown()
        if not args.keep_logs:
            shutil.rmtree(run.logdir, ignore_errors=True)
    print(json.dumps(result, sort_keys=True))
    sys.exit(code)


if __name__ == "__main__":
    main()
