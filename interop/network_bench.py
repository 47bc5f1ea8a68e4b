#!/usr/bin/env python3
"""Network-change benchmark: how long a running call's media takes to come back after the
doorbell's network changes, on real kernel NATs in network namespaces (`ice-bench network`
runs this).

    network_bench.py [--runs N] [--ice-agent PATH] [--only address,flap,flush]
                     [--log-level L] [--keep-logs] [--json FILE]

Each run builds its own lab, as Tests/IntegrationTests/KernelNAT.swift does (recipes and traps
in /work/shared/notes/kernel-nat.md): an "internet" namespace routing between two sites, each a
host namespace behind a router namespace; the home (`ice-agent answer`) in the open, the
doorbell (`ice-agent call`) behind an nftables NAT. The two are cross-wired over `--signal
stdio`; the camera (this driver) feeds the doorbell's --rtp-in one RTP packet per 20 ms, each
carrying its send time, and the speaker (this driver) timestamps what reaches the home's
--rtp-out. Once media flows, the event:

- address: behind a port-restricted NAT the doorbell's host gets a new address and the old one
  is deleted (a new DHCP lease; `promote_secondaries`, so the new one survives the old going).
  The rtnetlink watcher restarts ICE (RFC 8445 §9).
- flap: behind a port-restricted NAT the doorbell's LAN link goes down for 3 s and comes back
  with its default route put back (the kernel removes it with the link; a DHCP client
  restores it). The addresses stay on the interface.
- flush: behind a symmetric NAT the router forgets every mapping (`conntrack -F`). The next
  consent check (RFC 7675 §5.1, every 4-6 s) leaves from a new external port, its response's
  XOR-MAPPED-ADDRESS names it and the doorbell restarts.

Measured per run, from the moment the event's last command returned (the old address deleted,
the link up with its route, the flush done): "media resumed", the arrival of the first packet
sent after that moment; "gap", from the last packet that arrived before the event to that one
(the packets lost are the sequence numbers between them); "ICE completed", the doorbell's next
"ICE completed" log line (timestamped by the driver on arrival). Resolution: the camera's 20 ms.

Exit 0 when media resumed in every run, 1 when a run did not recover (its logs are kept and
their last lines printed), 2 when something is missing (the message names scripts/install-deps).
Needs root. Namespaces are named nb<pid>-<scenario><run>-..., and removed after each run, also
on failure and on SIGINT/SIGTERM/SIGHUP.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
REPO = os.path.dirname(HERE)
INSTALL_HINT = "scripts/install-deps"
CLONE_NEWNET = 0x40000000
RTP_INTERVAL = 0.02
RTP_IN_PORT = 5004


class Scenario:
    def __init__(self, key, title, nat, goal_ms, goal_text, limit_s):
        self.key, self.title, self.nat = key, title, nat
        self.goal_ms, self.goal_text, self.limit_s = goal_ms, goal_text, limit_s


SCENARIOS = [
    Scenario("address", "address change -> media resumed", "port-restricted", 2000, "< 2 s", 10),
    Scenario("flap", "link flap -> media resumed", "port-restricted", 2000, "< 2 s (from link up)", 10),
    # RFC 7675 §5.1: a consent check every 4-6 s; the one after the flush sees the new mapping.
    Scenario("flush", "conntrack flush -> media resumed", "symmetric", 8000, "< 8 s (6 s consent interval + 2 s)", 36),
]
FLAP_DOWN_S = 3.0


class Missing(Exception):
    pass


class Terminated(Exception):
    pass


def on_signal(signum, _frame):
    raise Terminated("signal %d" % signum)


def check_dependencies(ice_agent, scenarios):
    problems = []
    if os.geteuid() != 0:
        problems.append("network namespaces need root (run as root)")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            problems.append("%s is not installed: run `apt-get install %s` (or %s)" % (tool, package, INSTALL_HINT))
    if any(s.key == "flush" for s in scenarios) and shutil.which("conntrack") is None:
        problems.append("conntrack is not installed: run `apt-get install conntrack` (or %s)" % INSTALL_HINT)
    if not (ice_agent and os.access(ice_agent, os.X_OK)):
        problems.append("ice-agent not built at %s: run `swift build --product ice-agent`" % ice_agent)
    if problems:
        raise Missing("; ".join(problems))


# ---------------------------------------------------------------- the lab

def sh(args, check=True):
    r = subprocess.run(args, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


class Site:
    """Site n of a Lab, with KernelNATSite's addresses."""

    def __init__(self, lab, index, nat):
        self.index, self.nat = index, nat
        self.host = "%s-h%d" % (lab.prefix, index)
        self.router = "%s-r%d" % (lab.prefix, index)
        self.public = "203.0.113.%d" % (8 * index + 1)
        self.internet_side = "203.0.113.%d" % (8 * index + 2)
        if nat == "open":
            self.host_address, self.router_lan, self.prefix_len = "192.0.2.%d" % (16 * index + 2), "192.0.2.%d" % (16 * index + 1), 28
            self.subnet = "192.0.2.%d/28" % (16 * index)
        else:
            self.host_address, self.router_lan, self.prefix_len = "10.0.%d.2" % index, "10.0.%d.1" % index, 24
            self.subnet = "10.0.%d.0/24" % index

    def nft_rules(self):
        """KernelNATSite.nftRules for port-restricted (EIM, APDF) and symmetric (APDM, APDF).
        Unsolicited inbound packets are dropped before conntrack confirms them: a confirmed
        entry would take the 5-tuple the host's own later SNAT needs."""
        drop_new = 'iifname "r1" ct state new drop'
        snat = 'oifname "r1" snat to %s%s' % (self.public, " fully-random" if self.nat == "symmetric" else "")
        return ("table ip natlab {\n"
                "chain postrouting { type nat hook postrouting priority srcnat; policy accept; %s; }\n"
                "chain input { type filter hook input priority filter; policy accept; %s; }\n"
                "chain forward { type filter hook forward priority filter; policy accept; %s; }\n"
                "}\n") % (snat, drop_new, drop_new)


class Lab:
    """An internet namespace, the doorbell's site (behind `nat`) and the home's (open)."""

    def __init__(self, name, nat):
        self.prefix = "nb%d-%s" % (os.getpid(), name)
        self.internet = self.prefix + "-i"
        self.namespaces = []
        try:
            self.add_namespace(self.internet)
            sh(["ip", "netns", "exec", self.internet, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
            self.door = self.add_site(0, nat)
            self.home = self.add_site(1, "open")
            # A new lease must survive the old address going: without this, deleting the
            # primary IPv4 address deletes its secondaries.
            for conf in ("all", "h0"):
                sh(["ip", "netns", "exec", self.door.host, "sysctl", "-qw", "net.ipv4.conf.%s.promote_secondaries=1" % conf])
        except BaseException:
            # Half built (a failed command, a signal): the caller never gets the lab to tear down.
            self.teardown()
            raise

    def add_namespace(self, ns):
        sh(["ip", "netns", "del", ns], check=False)  # left by a killed run with this pid
        self.namespaces.append(ns)  # before it exists: a signal during the add still removes it
        sh(["ip", "netns", "add", ns])
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def add_site(self, n, nat):
        s = Site(self, n, nat)
        self.add_namespace(s.host)
        self.add_namespace(s.router)
        # Links created inside the namespaces: no name in the root namespace to collide.
        for cmd in (
            ["-n", s.host, "link", "add", "h0", "type", "veth", "peer", "name", "r0", "netns", s.router],
            ["-n", s.router, "link", "add", "r1", "type", "veth", "peer", "name", "s%d" % n, "netns", self.internet],
            ["-n", s.host, "addr", "add", "%s/%d" % (s.host_address, s.prefix_len), "dev", "h0"],
            ["-n", s.host, "link", "set", "h0", "up"],
            ["-n", s.host, "route", "add", "default", "via", s.router_lan],
            ["-n", s.router, "addr", "add", "%s/%d" % (s.router_lan, s.prefix_len), "dev", "r0"],
            ["-n", s.router, "link", "set", "r0", "up"],
            ["-n", s.router, "addr", "add", s.public + "/30", "dev", "r1"],
            ["-n", s.router, "link", "set", "r1", "up"],
            ["-n", s.router, "route", "add", "default", "via", s.internet_side],
            ["-n", self.internet, "addr", "add", s.internet_side + "/30", "dev", "s%d" % n],
            ["-n", self.internet, "link", "set", "s%d" % n, "up"],
        ):
            sh(["ip"] + cmd)
        if nat == "open":
            sh(["ip", "-n", self.internet, "route", "add", s.subnet, "via", s.public])
        sh(["ip", "netns", "exec", s.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        if nat != "open":
            r = subprocess.run(["ip", "netns", "exec", s.router, "nft", "-f", "-"], input=s.nft_rules(),
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("nft -f in %s: %s" % (s.router, r.stderr.strip()))
        return s

    def teardown(self):
        for ns in reversed(self.namespaces):
            sh(["ip", "netns", "del", ns], check=False)
        self.namespaces = []


_libc = ctypes.CDLL(None, use_errno=True)


def socket_in(ns):
    """A UDP socket created in namespace `ns` (it stays there; only this thread moves, and back)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise RuntimeError("setns %s: %s" % (ns, os.strerror(ctypes.get_errno())))
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise RuntimeError("setns back: %s" % os.strerror(ctypes.get_errno()))
    finally:
        os.close(own)
        os.close(target)


# ---------------------------------------------------------------- the call

class Agent:
    """One ice-agent process in a namespace; its stderr timestamped on arrival."""

    def __init__(self, label, ns, argv, logdir):
        self.label = label
        self.log_path = os.path.join(logdir, label + ".stderr")
        self.lines = []  # (time, line)
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.log = open(self.log_path, "w")
        self.thread = threading.Thread(target=self._read_stderr, daemon=True)
        self.thread.start()

    def _read_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            now = time.time()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append((now, line))
                self.log.write("%.3f %s\n" % (now, line))
                self.log.flush()

    def first(self, pattern, after=0.0):
        """The arrival time of the first line matching `pattern` that came after `after`."""
        with self.lock:
            for t, line in self.lines:
                if t >= after and re.search(pattern, line):
                    return t
        return None

    def matching(self, pattern, after=0.0):
        with self.lock:
            return [(t, line) for t, line in self.lines if t >= after and re.search(pattern, line)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # ip netns exec execs the agent: this is its pid
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout=2)
        self.log.close()


def wire(src, dst, siglog, lock):
    """Copies `src`'s stdout (its signaling) into `dst`'s stdin, line by line."""
    for raw in iter(src.proc.stdout.readline, b""):
        with lock:
            siglog.write("%.3f %s -> %s: %s\n" % (time.time(), src.label, dst.label, raw.decode("utf-8", "replace").rstrip("\r\n")))
            siglog.flush()
        try:
            dst.proc.stdin.write(raw)
            dst.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
    try:
        dst.proc.stdin.close()
    except OSError:
        pass


class Media:
    """The camera (RTP into the doorbell's --rtp-in, 50 packets/s, each with its sequence number
    and send time) and the speaker (the home's --rtp-out, arrivals timestamped)."""

    def __init__(self, door_ns, home_ns):
        self.tx = socket_in(door_ns)
        self.rx = socket_in(home_ns)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.05)
        self.rtp_out = self.rx.getsockname()[1]
        self.arrivals = []  # (arrival, seq, sent)
        self.lock = threading.Lock()
        self.running = True
        self.sent = 0
        self.ssrc = struct.unpack("!I", os.urandom(4))[0]

    def start_speaker(self):
        self.rx_thread = threading.Thread(target=self._receive, daemon=True)
        self.rx_thread.start()

    def start_camera(self):
        self.tx_thread = threading.Thread(target=self._send, daemon=True)
        self.tx_thread.start()

    def _send(self):
        next_at = time.monotonic()
        while self.running:
            seq = self.sent & 0xFFFF
            header = struct.pack("!BBHII", 0x80, 96, seq, (self.sent * 1800) & 0xFFFFFFFF, self.ssrc)
            payload = struct.pack("!Id", self.sent, time.time()) + bytes(100)
            try:
                self.tx.sendto(header + payload, ("127.0.0.1", RTP_IN_PORT))
            except OSError:
                pass
            self.sent += 1
            next_at += RTP_INTERVAL
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _receive(self):
        while self.running:
            try:
                data = self.rx.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.time()
            if len(data) < 24 or data[0] >> 6 != 2:
                continue
            index, sent = struct.unpack("!Id", data[12:24])
            with self.lock:
                self.arrivals.append((now, index, sent))

    def resumed_after(self, t):
        """The first arrival of a packet sent at or after `t`, and the last arrival before `t`."""
        with self.lock:
            first = next((a for a in self.arrivals if a[2] >= t), None)
            before = [a for a in self.arrivals if a[0] < t]
        return first, (before[-1] if before else None)

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def stop(self):
        self.running = False
        for th in (getattr(self, "tx_thread", None), getattr(self, "rx_thread", None)):
            if th is not None:
                th.join(timeout=1)
        self.tx.close()
        self.rx.close()


def wait_for(predicate, timeout, step=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    return predicate()


def ms(t, origin):
    return None if t is None or origin is None else round((t - origin) * 1000, 1)


def one_run(scenario, index, args):
    """One call, one event; returns the run's result (a dict)."""
    logdir = tempfile.mkdtemp(prefix="icenetbench-%s-%d-" % (scenario.key, index))
    result = {"scenario": scenario.key, "run": index, "ok": False, "logs": logdir}
    lab = media = None
    agents = []
    try:
        lab = Lab("%s%d" % (scenario.key[0], index), scenario.nat)
        door, home = lab.door, lab.home
        media = Media(door.host, home.host)
        common = [args.ice_agent, None, "--signal", "stdio", "--interface", "h0", "--duration", "120",
                  "--log-level", args.log_level]
        answer = Agent("home", home.host, common[:1] + ["answer"] + common[2:] +
                       ["--rtp-out", "127.0.0.1:%d" % media.rtp_out], logdir)
        agents.append(answer)
        call = Agent("doorbell", door.host, common[:1] + ["call"] + common[2:] +
                     ["--rtp-in", "127.0.0.1:%d" % RTP_IN_PORT], logdir)
        agents.append(call)
        siglog = open(os.path.join(logdir, "signaling.log"), "w")
        lock = threading.Lock()
        for a, b in ((call, answer), (answer, call)):
            threading.Thread(target=wire, args=(a, b, siglog, lock), daemon=True).start()
        media.start_speaker()
        if not wait_for(lambda: call.first(r"doorbell: ICE completed"), 10):
            result["error"] = "the call did not complete within 10 s"
            return result
        media.start_camera()
        # Steady media before the event: the first packet, then 1.5 s more.
        if not wait_for(lambda: media.count() > 0, 5):
            result["error"] = "no media reached the home's --rtp-out within 5 s of ICE completing"
            return result
        time.sleep(1.5)
        t_start = time.time()
        if scenario.key == "address":
            new = "10.0.%d.3" % door.index
            sh(["ip", "-n", door.host, "addr", "add", new + "/24", "dev", "h0"])
            sh(["ip", "-n", door.host, "addr", "del", "%s/24" % door.host_address, "dev", "h0"])
        elif scenario.key == "flap":
            sh(["ip", "-n", door.host, "link", "set", "h0", "down"])
            time.sleep(FLAP_DOWN_S)
            sh(["ip", "-n", door.host, "link", "set", "h0", "up"])
            # The kernel removed the default route with the link; a DHCP client puts it back.
            sh(["ip", "-n", door.host, "route", "replace", "default", "via", door.router_lan])
        else:
            sh(["ip", "netns", "exec", door.router, "conntrack", "-F"])
        t_event = time.time()
        # Stops early when the doorbell has ended the call: nothing can resume then.
        wait_for(lambda: media.resumed_after(t_event)[0] or call.proc.poll() is not None, scenario.limit_s)
        first = media.resumed_after(t_event)[0]
        _, last_before = media.resumed_after(t_start)
        completed = call.first(r"doorbell: ICE completed", after=t_start)
        result.update({
            "resumed_ms": ms(first[0], t_event) if first else None,
            "gap_ms": ms(first[0], last_before[0]) if first and last_before else None,
            "lost": (first[1] - last_before[1] - 1) if first and last_before else None,
            "completed_ms": ms(completed, t_event),
            "event_ms": ms(t_event, t_start),
            "door_events": ["%+.0f ms %s" % ((t - t_event) * 1000, line.split("] ", 1)[-1]) for t, line in call.matching(
                r"went away|came up|restart|rebound|ICE (completed|failed|disconnected|connected|checking)|consent|selected", t_start)][:20],
        })
        result["ok"] = first is not None
        if not first:
            time.sleep(0.2)  # the other side's exit, when the call ended
            exits = ["%s exited with %d" % (a.label, a.proc.returncode) for a in agents if a.proc.poll() is not None]
            why = "the call ended" if call.proc.poll() is not None else "not within %d s" % scenario.limit_s
            result["error"] = "media did not resume (%s)%s" % (why, "; " + ", ".join(exits) if exits else "")
        return result
    finally:
        if media is not None:
            media.stop()
        for a in agents:
            a.stop()
        if lab is not None:
            lab.teardown()
        if result["ok"] and not args.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)
            result.pop("logs", None)


# ---------------------------------------------------------------- output

def fmt(x):
    return "-" if x is None else ("%.0f" % x if x >= 100 else "%.1f" % x)


def summary_line(scenario, runs):
    """`<title>: median X ms, max Y ms of N (gap median G ms, max H ms); goal ...: met|missed`
    (ice-bench all reads the first two numbers)."""
    ok = [r for r in runs if r["ok"]]
    if not ok:
        return "%s: no run recovered (0 of %d); goal %s: missed" % (scenario.title, len(runs), scenario.goal_text)
    resumed = [r["resumed_ms"] for r in ok]
    gaps = [r["gap_ms"] for r in ok if r["gap_ms"] is not None]
    worst = max(resumed)
    met = len(ok) == len(runs) and worst < scenario.goal_ms
    text = "%s: median %s ms, max %s ms of %d" % (scenario.title, fmt(statistics.median(resumed)), fmt(worst), len(ok))
    if len(ok) != len(runs):
        text += " (%d of %d runs did not recover)" % (len(runs) - len(ok), len(runs))
    if gaps:
        text += " (gap median %s ms, max %s ms)" % (fmt(statistics.median(gaps)), fmt(max(gaps)))
    return text + "; goal %s: %s" % (scenario.goal_text, "met" if met else "missed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per scenario (default 5)")
    ap.add_argument("--ice-agent", default=os.path.join(REPO, ".build", "release", "ice-agent"))
    ap.add_argument("--only", default=",".join(s.key for s in SCENARIOS),
                    help="scenarios, comma-separated: address, flap, flush (default all)")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--json", help="write every run's result to this file")
    args = ap.parse_args()
    args.ice_agent = os.path.abspath(args.ice_agent)
    keys = args.only.split(",")
    unknown = [k for k in keys if k not in [s.key for s in SCENARIOS]]
    if unknown or args.runs < 1:
        ap.error("unknown scenario %s" % ",".join(unknown) if unknown else "--runs must be at least 1")
    scenarios = [s for s in SCENARIOS if s.key in keys]
    try:
        check_dependencies(args.ice_agent, scenarios)
    except Missing as e:
        sys.stderr.write("network_bench: %s\n" % e)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    print("network_bench: %d run(s) per scenario, ice-agent %s" % (args.runs, args.ice_agent), flush=True)
    results = {s.key: [] for s in scenarios}
    failed = False
    try:
        for s in scenarios:
            for i in range(1, args.runs + 1):
                try:
                    r = one_run(s, i, args)
                except RuntimeError as e:
                    r = {"scenario": s.key, "run": i, "ok": False, "error": "lab: %s" % e}
                results[s.key].append(r)
                if r["ok"]:
                    print("%s run %d: media resumed %s ms after the event, gap %s ms (%s packets lost), "
                          "doorbell ICE completed again at %s ms" % (s.key, i, fmt(r["resumed_ms"]), fmt(r["gap_ms"]),
                                                                     r["lost"], fmt(r["completed_ms"])), flush=True)
                else:
                    failed = True
                    print("%s run %d: FAILED: %s; the doorbell's log around the event (ms from it):" % (s.key, i, r.get("error")), flush=True)
                    for line in r.get("door_events", []):
                        print("    %s" % line, flush=True)
                    if r.get("logs"):
                        common.dump_logs(r["logs"], last=40)
    except Terminated as e:
        sys.stderr.write("network_bench: terminated (%s); namespaces removed\n" % e)
        return 1
    print("")
    for s in scenarios:
        print(summary_line(s, results[s.key]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
