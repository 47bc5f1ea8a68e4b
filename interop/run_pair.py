#!/usr/bin/env python3
"""Runs one ICE pairing inside a fresh network namespace (only loopback exists there, so no
packet can leave the machine) and prints a one-line JSON result.

    run_pair.py IMPL ROLE [--json] [--left IMPL] [--duration S] [--ice-agent PATH]
                [--log-level debug] [--keep-logs] [--no-netns] [--stun]

IMPL (the peer): aioice | libnice | pion | ice-agent.  ROLE: the role of the left side, which is
ice-agent unless --left says otherwise: call (controlling) | answer (controlled); the peer
takes the other role. Examples:

    run_pair.py aioice call            ice-agent call   <-> aioice (controlled)
    run_pair.py libnice answer         ice-agent answer <-> libnice (controlling)
    run_pair.py pion call              ice-agent call   <-> pion/ice (controlled)
    run_pair.py ice-agent call         ice-agent call   <-> ice-agent answer
    run_pair.py aioice call --left aioice   aioice <-> aioice

Both processes' stdout is copied line by line into the other's stdin (the `--signal stdio`
protocol); the copy is logged to signaling.log in the log directory. Each ice-agent side gets
`--rtp-in`/`--rtp-out` on loopback: the driver feeds RTP into --rtp-in and counts what comes out
of --rtp-out. The peers (aioice_peer.py, libnice_peer.py, pion_peer.go) send and count RTP
themselves. The pion peer is compiled first (interop/build_pion.sh, offline, cached in
.build-interop/pion-peer).

Success (exit 0): both sides connected, and media arrived both ways: RTP at every ice-agent's
--rtp-out and at every peer. Otherwise exit 1 (exit 2: usage or missing dependency); the
result names the log directory, which is kept on failure (and with --keep-logs).

Connect times in the result: `connect_ms` from the launch of both processes to the side's
"ICE completed" (ice-agent: the wall-clock time at the start of that stderr line, which
`--log-timestamps` adds when the line is written; peers: the wall clock they record when
connected), and `after_signaling_ms` from the moment both descriptions had been delivered.

Needs root (ip netns). The namespace (iceinterop-<random>) is deleted afterwards, also on
failure; namespaces left behind by a killed run are removed by the next run once nothing runs
in them any more.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, HERE)
import common  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: has gi (PyGObject) and, via install-deps, aioice
NETNS_PREFIX = "iceinterop-"
INSTALL_HINT = "scripts/install-deps"
BUILD_PION = os.path.join(HERE, "build_pion.sh")
PION_PEER = os.path.join(REPO, ".build-interop", "pion-peer")
IMPLS = ["aioice", "libnice", "pion", "ice-agent"]


class Missing(Exception):
    pass


def check_dependencies(impls, ice_agent):
    problems = []
    if os.geteuid() != 0:
        problems.append("network namespaces need root (run as root)")
    if shutil.which("ip") is None:
        problems.append("iproute2 is not installed: run `apt-get install iproute2` (or %s)" % INSTALL_HINT)
    if not os.path.exists(SYSTEM_PYTHON):
        problems.append("%s is missing: run `apt-get install python3`" % SYSTEM_PYTHON)
    if "aioice" in impls:
        r = subprocess.run([SYSTEM_PYTHON, "-c", "import aioice"], capture_output=True)
        if r.returncode != 0:
            problems.append("aioice is not installed for %s: run `%s -m pip install --break-system-packages "
                            "aioice==0.13.0` (or %s)" % (SYSTEM_PYTHON, SYSTEM_PYTHON, INSTALL_HINT))
    if "libnice" in impls:
        r = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Nice', '0.1'); "
                            "from gi.repository import Nice; import ctypes; ctypes.CDLL('libnice.so.10')"],
                           capture_output=True)
        if r.returncode != 0:
            problems.append("libnice with PyGObject is not installed: run `apt-get install python3-gi "
                            "gir1.2-nice-0.1 libnice10` (or %s)" % INSTALL_HINT)
    if "pion" in impls:
        # Builds (or finds up to date) .build-interop/pion-peer; exit 2 names the apt-get command.
        r = subprocess.run(["bash", BUILD_PION], capture_output=True, text=True)
        if r.returncode == 2:
            problems.append(r.stderr.strip().replace("build_pion: ", "") or "pion/ice is not installed")
        elif r.returncode != 0 or not os.access(PION_PEER, os.X_OK):
            problems.append("building the pion peer failed (interop/build_pion.sh): %s" % r.stderr.strip()[-2000:])
    if "ice-agent" in impls and not (ice_agent and os.access(ice_agent, os.X_OK)):
        problems.append("ice-agent not built at %s: run `swift build`" % ice_agent)
    if problems:
        raise Missing("; ".join(problems))


# ---------------------------------------------------------------- namespace (outer process)

def cleanup_stale_namespaces():
    """Deletes iceinterop-* namespaces that nothing runs in any more and that are older than a
    minute (left by a run that was killed before its own cleanup)."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        if not name.startswith(NETNS_PREFIX):
            continue
        try:
            age = time.time() - os.stat(os.path.join("/run/netns", name)).st_mtime
        except OSError:
            continue
        if age < 60:
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        if not pids:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def run_in_namespace(script, argv, limit, on_timeout, name_length=10, setup=()):
    """Runs `script argv --inside-netns NAME` in a fresh network namespace with lo up (after
    the `setup` commands, run inside it), forwarding SIGTERM/SIGINT, for at most `limit`
    seconds; the namespace is deleted afterwards whatever happens. Returns the exit status."""
    cleanup_stale_namespaces()
    name = NETNS_PREFIX + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(name_length))
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        raise Missing("cannot create a network namespace (ip netns add %s): %s" % (name, r.stderr.strip()))
    child = None
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        for cmd in setup:
            subprocess.run(["ip", "netns", "exec", name] + cmd, capture_output=True)
        child = subprocess.Popen(["ip", "netns", "exec", name, SYSTEM_PYTHON, os.path.abspath(script)] + argv +
                                 ["--inside-netns", name])

        def forward(signum, _frame):
            if child.poll() is None:
                child.send_signal(signum)
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        try:
            code = child.wait(timeout=limit)
            return 128 - code if code < 0 else code
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            on_timeout(name)
            return 1
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        # Whatever the inner driver started is its child; it kills them by PID. Should one
        # survive, the namespace is only unlinked here and disappears with its last process.
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def outer(args, argv):
    def timed_out(name):
        print(json.dumps({"ok": False, "error": "driver timed out inside %s" % name}), flush=True)
    return run_in_namespace(__file__, argv, args.duration + 30, timed_out)


# ---------------------------------------------------------------- the pairing (inside)

def free_udp_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Side:
    """One ICE endpoint process."""

    def __init__(self, label, impl, controlling, args, logdir, peer_impl=None):
        self.label, self.impl, self.controlling = label, impl, controlling
        self.logdir = logdir
        self.stderr_path = os.path.join(logdir, label + ".stderr")
        self.summary_path = os.path.join(logdir, label + ".summary.json")
        self.completed_at = None
        self.connected_at = None
        self.selected = None
        self.media_line = None
        self.rtp_in = self.rtp_out = None
        self.sink = None
        self.fed = 0
        self.sink_count = 0
        role_word = "controlling" if controlling else "controlled"
        if impl == "ice-agent":
            self.rtp_in = free_udp_port()
            self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sink.bind(("127.0.0.1", 0))
            self.sink.settimeout(0.1)
            self.rtp_out = self.sink.getsockname()[1]
            self.cmd = [args.ice_agent, "call" if controlling else "answer", "--signal", "stdio",
                        "--allow-loopback", "--interface", "lo", "--duration", str(args.duration),
                        "--rtp-in", "127.0.0.1:%d" % self.rtp_in, "--rtp-out", "127.0.0.1:%d" % self.rtp_out,
                        "--log-level", args.log_level]
            # aioice, libnice and pion/ice are ICE stacks without DTLS-SRTP: against them media
            # goes in clear, which ice-agent does only when told. Two ice-agents encrypt.
            if peer_impl != "ice-agent":
                self.cmd += ["--media-security", "none"]
            if getattr(args, "stun_server", None):
                self.cmd += ["--stun", args.stun_server]
            if self.OWN_CLOCK:
                self.cmd += ["--log-timestamps"]
        elif impl in ("aioice", "libnice"):
            script = os.path.join(HERE, impl + "_peer.py")
            self.cmd = [SYSTEM_PYTHON, script, "--" + role_word, "--duration", str(args.duration),
                        "--summary", self.summary_path, "--log-level", args.log_level] + args.peer_arg
        elif impl == "pion":
            if not os.access(PION_PEER, os.X_OK):
                raise Missing("the pion peer is not built: run interop/build_pion.sh")
            self.cmd = [PION_PEER, "--" + role_word, "--duration", str(args.duration),
                        "--summary", self.summary_path, "--log-level", args.log_level] + args.peer_arg
        else:
            raise Missing("unknown implementation %r (%s)" % (impl, " | ".join(IMPLS)))

    def start(self):
        self.errfile = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.err_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self.err_thread.start()

    LOG_TIME = "%.3f"
    # ice-agent's connect times from its own clock (`--log-timestamps`: the time each line was
    # written), as the peers report theirs (`connected_unix` in their summaries). Timestamped on
    # arrival instead, a line waits for this driver's reader thread, which shares the GIL with
    # the wires and feeders: up to a few ms late on two cores.
    OWN_CLOCK = True

    def _read_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            now = time.time()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.errfile.write((self.LOG_TIME + " %s\n") % (now, line))
            self.errfile.flush()
            self.on_stderr_line(now, line)
        self.on_stderr_eof()

    def on_stderr_eof(self):
        pass

    def on_stderr_line(self, now, line):
        """ice-agent's log lines: when ICE connected and completed, the selected pair, media."""
        if self.impl != "ice-agent":
            return
        stamped = re.match(r"(\d+\.\d{6}) ", line) if self.OWN_CLOCK else None
        at = float(stamped.group(1)) if stamped else now
        if self.completed_at is None and re.search(r": ICE completed\b", line):
            self.completed_at = at
        if self.connected_at is None and re.search(r": ICE (connected|completed)\b", line):
            self.connected_at = at
        m = re.search(r": selected (\S+ -> \S+ \S+)( nominated)?", line)
        if m:
            self.selected = m.group(1) + (m.group(2) or "")
        if "media: sent" in line:
            self.media_line = line.split("media: ", 1)[1]

    def feed_and_sink(self, until):
        """ice-agent sides: RTP into --rtp-in every 20 ms; count what leaves --rtp-out."""
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ssrc = common.random_ssrc()
        stop_feeding = until - 0.5

        def sink():
            while time.time() < until + 0.5:
                try:
                    data, _ = self.sink.recvfrom(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if common.is_rtp(data):
                    self.sink_count += 1
        t = threading.Thread(target=sink, daemon=True)
        t.start()
        while time.time() < stop_feeding and self.proc.poll() is None:
            tx.sendto(common.rtp_packet(self.fed, ssrc), ("127.0.0.1", self.rtp_in))
            self.fed += 1
            time.sleep(0.02)
        t.join()
        tx.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err_thread.join(timeout=2)
        self.errfile.close()
        if self.sink:
            self.sink.close()

    def result(self, t_start, t_signaled):
        def ms(t, origin):
            return None if t is None or origin is None else round((t - origin) * 1000, 1)
        r = {"impl": self.impl, "role": "controlling" if self.controlling else "controlled",
             "exit": self.proc.returncode}
        if self.impl == "ice-agent":
            done = self.completed_at or self.connected_at
            r.update({"connected": self.connected_at is not None, "completed": self.completed_at is not None,
                      "connect_ms": ms(done, t_start), "after_signaling_ms": ms(done, t_signaled),
                      "selected": self.selected, "rtp_fed": self.fed, "rtp_out_received": self.sink_count,
                      "media": self.media_line})
        else:
            s = {}
            try:
                with open(self.summary_path) as f:
                    s = json.load(f)
            except (OSError, ValueError):
                s = {"error": "no summary written"}
            at = s.get("connected_unix")
            r.update({"version": s.get("impl"), "connected": bool(s.get("connected")),
                      "connect_ms": ms(at, t_start), "after_signaling_ms": ms(at, t_signaled),
                      "own_connect_ms": s.get("connect_ms"), "selected": s.get("selected"),
                      "sent": s.get("sent", 0), "received": s.get("received", 0)})
            if s.get("error"):
                r["error"] = s["error"]
        return r

    def media_ok(self):
        if self.impl == "ice-agent":
            return self.sink_count > 0
        try:
            with open(self.summary_path) as f:
                return json.load(f).get("received", 0) > 0
        except (OSError, ValueError):
            return False


class Wire:
    """Copies one side's stdout lines into the other's stdin, logging them."""

    def __init__(self, src, dst, log, lock):
        self.src, self.dst, self.log, self.lock = src, dst, log, lock
        self.description_done = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    LOG_TIME = "%.3f"

    def observe(self, now, text):
        """Called for each line before it is passed on (subclasses timestamp lines)."""

    def run(self):
        seen_content = False
        for raw in iter(self.src.proc.stdout.readline, b""):
            now = time.time()
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.observe(now, text)
            with self.lock:
                self.log.write((self.LOG_TIME + " %s -> %s: %s\n") % (now, self.src.label, self.dst.label, text))
                self.log.flush()
            # The description counts as delivered when its terminating empty line starts on its
            # way (taken before the write: a later reading could postdate what the side did
            # with it).
            if not text and seen_content and self.description_done is None:
                self.description_done = time.time()
            try:
                self.dst.proc.stdin.write(raw)
                self.dst.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass
            if text:
                seen_content = True
        try:
            self.dst.proc.stdin.close()
        except OSError:
            pass


class Terminated(Exception):
    pass


def on_terminate(signum, _frame):
    raise Terminated("signal %d" % signum)


def inner(args):
    # SIGTERM/SIGINT (from the outer driver): stop both sides by PID in the finally below.
    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGINT, on_terminate)
    impls = [args.left, args.impl]
    left_controlling = args.role == "call"
    logdir = tempfile.mkdtemp(prefix="iceinterop-%s-%s-%s-" % (args.left, args.role, args.impl))
    left_label = args.left if args.left != args.impl else args.left + "-" + args.role
    right_label = args.impl if args.left != args.impl else args.impl + "-" + ("answer" if left_controlling else "call")
    stun = start_stun_server(args, logdir) if args.stun else None
    left = Side(left_label, args.left, left_controlling, args, logdir, peer_impl=args.impl)
    right = Side(right_label, args.impl, not left_controlling, args, logdir, peer_impl=args.left)
    sides = [left, right]
    siglog = open(os.path.join(logdir, "signaling.log"), "w")
    lock = threading.Lock()
    t_start = time.time()
    for s in sides:
        s.start()
    wires = [Wire(left, right, siglog, lock), Wire(right, left, siglog, lock)]
    for w in wires:
        w.thread.start()
    until = t_start + args.duration
    feeders = [threading.Thread(target=s.feed_and_sink, args=(until,), daemon=True)
               for s in sides if s.impl == "ice-agent"]
    for f in feeders:
        f.start()
    deadline = until + 5
    try:
        for s in sides:
            try:
                s.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for f in feeders:
            f.join(timeout=max(0.1, deadline - time.time()))
    finally:
        for s in sides:
            s.stop()
        if stun:
            stun.terminate()
            stun.wait()
        for w in wires:
            w.thread.join(timeout=1)
        siglog.close()
    delivered = [w.description_done for w in wires]
    t_signaled = max(delivered) if all(delivered) else None
    res_left, res_right = left.result(t_start, t_signaled), right.result(t_start, t_signaled)
    ok = all(r["connected"] for r in (res_left, res_right)) and all(s.media_ok() for s in sides)
    result = {"ok": ok, "pairing": "%s %s <-> %s" % (args.left, args.role, args.impl),
              "impl": args.impl, "role": args.role, "netns": args.inside_netns,
              # "ours": the left side (ice-agent unless --left); "peer": IMPL.
              "ours": res_left, "peer": res_right}
    # Media that arrived, but far less than was sent: the sides disagree on the selected pair
    # (or something drops packets). Reported, not a failure (the contract is "media arrived").
    warnings = []
    for a, b in ((left, right), (right, left)):
        ra, rb = a.result(t_start, t_signaled), b.result(t_start, t_signaled)
        got = ra.get("rtp_out_received", ra.get("received", 0)) or 0
        sent = rb.get("sent") if b.impl != "ice-agent" else rb.get("media") and _sent_from_media(rb["media"])
        if sent and got < sent / 2:
            warnings.append("%s received %d of the %d RTP packets %s sent (selected %s; %s selected %s)" % (
                a.label, got, sent, b.label, ra.get("selected"), b.label, rb.get("selected")))
    if warnings:
        result["warnings"] = warnings
    if ok and not args.keep_logs:
        shutil.rmtree(logdir, ignore_errors=True)
    else:
        result["logs"] = logdir
    if args.json:
        print(json.dumps(result, sort_keys=True), flush=True)
    else:
        print(json.dumps(result, sort_keys=True, indent=2), flush=True)
    if not ok:
        common.dump_logs(logdir, last=60)
    return 0 if ok else 1


def start_stun_server(args, logdir):
    """--stun: ice-agent's own STUN server on loopback, answering before the sides start (a
    Binding request is retried until it is answered), so both sides gather a server-reflexive
    candidate as a doorbell with `--stun` does."""
    port = free_udp_port()
    err = open(os.path.join(logdir, "stun-server.stderr"), "w")
    proc = subprocess.Popen([args.ice_agent, "stun", "server", "--listen", "127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.settimeout(0.05)
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + os.urandom(12)
    try:
        for _ in range(100):
            probe.sendto(request, ("127.0.0.1", port))
            try:
                if probe.recv(1500)[8:20] == request[8:20]:
                    break
            except (socket.timeout, ConnectionRefusedError):
                continue
        else:
            proc.terminate()
            raise Missing("ice-agent stun server did not answer on 127.0.0.1:%d" % port)
    finally:
        probe.close()
    args.stun_server = "127.0.0.1:%d" % port
    return proc


def _sent_from_media(text):
    """ice-agent's closing line: "sent N RTP packets, received M (gaps G)"."""
    m = re.match(r"sent (\d+) RTP packets", text or "")
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("impl", choices=IMPLS)
    ap.add_argument("role", choices=["call", "answer"])
    ap.add_argument("--left", default="ice-agent", choices=IMPLS)
    ap.add_argument("--json", action="store_true", help="one-line JSON")
    ap.add_argument("--duration", type=int, default=5, help="whole seconds each side runs (default 5)")
    ap.add_argument("--ice-agent", default=os.path.join(REPO, ".build", "debug", "ice-agent"))
    ap.add_argument("--log-level", default="debug")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--peer-arg", action="append", default=[],
                    help="extra argument for the peer (repeatable), e.g. --peer-arg=--aggressive (libnice), "
                         "--peer-arg=--check-interval-ms=50 (pion)")
    ap.add_argument("--no-netns", action="store_true", help="run on the host's loopback (debugging)")
    ap.add_argument("--stun", action="store_true",
                    help="run ice-agent's STUN server in the namespace and give it to every ice-agent side (--stun)")
    ap.add_argument("--inside-netns", help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    args = ap.parse_args(argv)
    args.ice_agent = os.path.abspath(args.ice_agent)
    try:
        if args.inside_netns or args.no_netns:
            try:
                return inner(args)
            except Terminated as e:
                print(json.dumps({"ok": False, "error": "terminated (%s)" % e}), flush=True)
                return 1
        check_dependencies({args.impl, args.left}, args.ice_agent)
        return outer(args, argv)
    except Missing as e:
        print(json.dumps({"ok": False, "error": str(e)}), flush=True)
        sys.stderr.write("run_pair: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
