#!/usr/bin/env python3
"""TURN benchmark: time to the relayed candidate and relay-only connect time for ice-agent,
libnice and aioice against the same coturn, in one run (`ice-bench turn` runs this).

    turn_bench.py [--runs N] [--ice-agent PATH] [--only ice-agent,libnice,aioice]
                  [--timeout S] [--log-level L] [--keep-logs] [--json FILE]

One network namespace (iceinterop-turn-<random>, only `lo` in it) holds everything: one coturn
(`turnserver`, long-term credentials, UDP, no TLS, `--allow-loopback-peers`) on 127.0.0.1 and a
fresh port, and, N times per stack (default 10), two peers of the same stack cross-wired over
the `--signal stdio` protocol (the driver pieces of run_pair.py), both relay-only through that
coturn: ice-agent `call`/`answer --turn ... --relay-only`, libnice_peer.py/aioice_peer.py
`--turn ... --relay-only` (libnice `force-relay`, aioice `TransportPolicy.RELAY`). A run ends as
soon as the controlling side has completed and the controlled side is connected.

What is measured (every run gives two relayed candidates and one connect):

- relayed candidate: from the start of gathering to the relayed candidate existing. libnice:
  `gather_candidates()` to `new-candidate-full` of type relay; aioice: `gather_candidates()`
  (all candidates at once) until it returns with the relay candidate, both on the peer's own
  clock. ice-agent: from its first stdout line (the trickle description, written in the same
  event-loop turn that sends the first Allocate) to its `a=candidate:... typ relay` line (written
  when the allocation succeeds), both timestamped by the driver on arrival. In all three that
  is two round trips to coturn (Allocate, 401, Allocate with MESSAGE-INTEGRITY) plus each
  stack's own pacing.
- relay-only connect: from the moment both sides' relayed candidates had been delivered (the
  later of the two `a=candidate:... typ relay` lines copied by the driver) to the controlling
  side's "ICE completed" (ice-agent's log line, the peers' `ICE completed in` line, timestamped
  by the driver on arrival). This is connect_bench.py's "after signaling" with the signaling
  taken to be complete when both relayed candidates are known: ice-agent trickles (its
  description goes out before the allocation, the relayed candidate follows), libnice and
  aioice put the relayed candidate into their description, so the moment the description was
  delivered would count ice-agent's allocation but not theirs.
- from launch: both processes launched to the relayed candidate line / ICE completed
  (process start-up included: Python with aioice or GObject introspection costs 100-300 ms).

Exit 0 when every run connected, 1 otherwise, 2 when something is missing (the message names
scripts/install-deps). Needs root (ip netns).
"""

import argparse
import json
import math
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, HERE)
import run_pair  # noqa: E402

STACKS = ["ice-agent", "libnice", "aioice"]
# The figures (issue 5, item 5), measured elsewhere: for reference only.
REFERENCE = "libnice 62 ms, aioice 507 ms, libjuice 101 ms"
TURN_USER, TURN_PASSWORD, TURN_REALM = "bench", "bench-secret", "bench.example"
NETNS_PREFIX = run_pair.NETNS_PREFIX + "turn-"  # run_pair's stale-namespace cleanup covers it
INSTALL_HINT = run_pair.INSTALL_HINT


def check_dependencies(stacks, ice_agent):
    problems = []
    try:
        run_pair.check_dependencies(set(stacks), ice_agent)
    except run_pair.Missing as e:
        problems.append(str(e))
    if shutil.which("turnserver") is None:
        problems.append("coturn is not installed: run `apt-get install coturn` (or %s)" % INSTALL_HINT)
    if problems:
        raise run_pair.Missing("; ".join(problems))


# ---------------------------------------------------------------- coturn

def stun_binding_ok(port, timeout=0.2):
    """True when a STUN Binding request to 127.0.0.1:port gets a success response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        tid = os.urandom(12)
        s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, ("127.0.0.1", port))
        data, _ = s.recvfrom(2048)
        return len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == tid
    except OSError:
        return False
    finally:
        s.close()


class Coturn:
    def __init__(self, logdir):
        self.port = run_pair.free_udp_port()
        self.log_path = os.path.join(logdir, "coturn.log")
        # Inside the namespace every port is free; a wide range so that allocations left by
        # killed peers (libnice, aioice: no deallocation on SIGTERM) never exhaust it.
        self.cmd = ["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                    "--listening-port=%d" % self.port, "--min-port=%d" % RELAY_PORTS[0],
                    "--max-port=%d" % RELAY_PORTS[1], "--pidfile=" + os.path.join(logdir, "turnserver.pid"),
                    "--no-tls", "--no-dtls", "--no-cli", "--lt-cred-mech",
                    "--user=%s:%s" % (TURN_USER, TURN_PASSWORD), "--realm=" + TURN_REALM,
                    "--allow-loopback-peers", "--log-file=" + self.log_path, "--simple-log"]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("turnserver exited with %s (log %s)" % (self.proc.returncode, self.log_path))
            if stun_binding_ok(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("turnserver did not answer a Binding request within 10 s (log %s)" % self.log_path)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def version(self):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "coturn"], capture_output=True, text=True)
        return r.stdout.strip() or "?"


# ---------------------------------------------------------------- ports between runs

RELAY_PORTS = (40000, 49999)  # coturn's relay range; ephemeral ports start above it (outer)


def bound_udp4_ports():
    """(address, port) of every IPv4 UDP socket in this network namespace (/proc/net/udp)."""
    out = set()
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                local = line.split()[1]
                addr_hex, port_hex = local.split(":")
                addr = socket.inet_ntoa(struct.pack("<I", int(addr_hex, 16)))
                out.add((addr, int(port_hex, 16)))
    except (OSError, ValueError, StopIteration):
        pass
    return out


class PortHolder:
    """Keeps the client ports of finished runs bound until the benchmark ends, so that no
    later run gets one of them. coturn keeps a UDP session about a second after it was
    deallocated (ice-agent deallocates on SIGTERM), and until its lifetime (600 s) ends when
    it was not (libnice and aioice, terminated, do not), and answers an Allocate from the same
    5-tuple with 437 (Allocation Mismatch). In an otherwise empty namespace the kernel hands
    out a just-freed ephemeral port again often enough to hit that (seen twice in ~200 runs):
    an artefact of back-to-back runs against one server."""

    def __init__(self, coturn_port):
        self.coturn_port = coturn_port
        self.held = []

    def hold(self, ports):
        for addr, port in ports:
            if port == self.coturn_port or RELAY_PORTS[0] <= port <= RELAY_PORTS[1]:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((addr, port))
            except OSError:
                s.close()  # still in use, or held already
                continue
            self.held.append(s)

    def close(self):
        for s in self.held:
            s.close()
        self.held = []


# ---------------------------------------------------------------- one pairing

class TurnSide(run_pair.Side):
    """A run_pair Side that also watches the peers' stderr for their connect and relayed
    candidate lines, and signals when it is connected."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.connected_event = threading.Event()
        self.completed_event = threading.Event()
        self.relay_ms_own = None  # the peers' own gather-to-relayed-candidate time

    LOG_TIME = "%.6f"
    # Every stack here is timed by this driver on its lines' arrival, ice-agent included.
    OWN_CLOCK = False

    def on_stderr_line(self, now, line):
        if self.impl == "ice-agent":
            super().on_stderr_line(now, line)
        else:
            if self.completed_at is None and "ICE completed in" in line:
                self.completed_at = self.connected_at = now
                m = re.search(r"selected (.*)$", line)
                if m and not self.selected:
                    self.selected = m.group(1)
            m = re.search(r"\): selected (.*)$", line)  # libnice: with the candidate types
            if m:
                self.selected = m.group(1)
            m = re.search(r"relayed candidate \S+ after ([\d.]+) ms of gathering", line)
            if m and self.relay_ms_own is None:
                self.relay_ms_own = float(m.group(1))
        if self.connected_at is not None:
            self.connected_event.set()
        if self.completed_at is not None:
            self.completed_event.set()

    def on_stderr_eof(self):
        # Whoever waits on this side stops waiting.
        self.connected_event.set()
        self.completed_event.set()


class TurnWire(run_pair.Wire):
    """A run_pair Wire that timestamps the first line and the relayed candidate line."""

    def __init__(self, *a):
        super().__init__(*a)
        self.first_line_at = None
        self.relay_line_at = None

    LOG_TIME = "%.6f"

    def observe(self, now, text):
        if self.first_line_at is None:
            self.first_line_at = now
        if self.relay_line_at is None and text.startswith("a=candidate:") and " typ relay" in text:
            self.relay_line_at = now


def ms(t, origin):
    return None if t is None or origin is None else round((t - origin) * 1000, 2)


def one_run(stack, coturn, args, holder=None):
    logdir = tempfile.mkdtemp(prefix="iceturnbench-%s-" % stack)
    turn_peer = ["--turn", "127.0.0.1:%d" % coturn.port, "--turn-user", "%s:%s" % (TURN_USER, TURN_PASSWORD),
                 "--relay-only"]
    side_args = argparse.Namespace(ice_agent=args.ice_agent, duration=args.timeout + 2, log_level=args.log_level,
                                   peer_arg=turn_peer if stack != "ice-agent" else [])
    call = TurnSide(stack + "-call", stack, True, side_args, logdir)
    answer = TurnSide(stack + "-answer", stack, False, side_args, logdir)
    if stack == "ice-agent":
        for s in (call, answer):
            s.cmd += ["--turn", "turn:127.0.0.1:%d?transport=udp" % coturn.port,
                      "--turn-user", "%s:%s" % (TURN_USER, TURN_PASSWORD), "--relay-only"]
    sides = [call, answer]
    siglog = open(os.path.join(logdir, "signaling.log"), "w")
    lock = threading.Lock()
    t_start = time.time()
    for s in sides:
        s.start()
    wires = {call: TurnWire(call, answer, siglog, lock), answer: TurnWire(answer, call, siglog, lock)}
    for w in wires.values():
        w.thread.start()
    try:
        deadline = t_start + args.timeout
        call.completed_event.wait(timeout=max(0.01, deadline - time.time()))
        answer.connected_event.wait(timeout=max(0.01, deadline - time.time()))
    finally:
        client_ports = bound_udp4_ports()
        for s in sides:
            s.stop()
        if holder is not None:
            holder.hold(client_ports)
        for w in wires.values():
            w.thread.join(timeout=1)
        siglog.close()

    def relay_ms(side):
        if side.impl != "ice-agent":
            return side.relay_ms_own
        w = wires[side]
        return ms(w.relay_line_at, w.first_line_at)

    relay_lines = [wires[s].relay_line_at for s in sides]
    both_relayed = max(relay_lines) if all(relay_lines) else None
    r = {
        "stack": stack,
        "ok": call.completed_at is not None and answer.connected_at is not None,
        "relay_ms": [relay_ms(s) for s in sides],
        "relay_from_launch_ms": [ms(t, t_start) for t in relay_lines],
        "connect_ms": ms(call.completed_at, both_relayed),
        "connect_from_launch_ms": ms(call.completed_at, t_start),
        "selected": call.selected,
        "answer_connected_ms": ms(answer.connected_at, both_relayed),
    }
    if r["ok"] and not args.keep_logs:
        shutil.rmtree(logdir, ignore_errors=True)
    else:
        r["logs"] = logdir
    return r


# ---------------------------------------------------------------- statistics and output

def p90(values):
    v = sorted(values)
    return v[max(0, math.ceil(0.9 * len(v)) - 1)]


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": round(statistics.median(v), 2), "p90": round(p90(v), 2), "n": len(v)}


def fmt(s, key):
    if s is None:
        return "-"
    x = s[key]
    return "%.1f" % x if x >= 10 else "%.2f" % x


def inner(args):
    signal.signal(signal.SIGTERM, run_pair.on_terminate)
    signal.signal(signal.SIGINT, run_pair.on_terminate)
    stacks = args.stacks
    logdir = tempfile.mkdtemp(prefix="iceturnbench-")
    coturn = Coturn(logdir)
    holder = PortHolder(coturn.port)
    results = {s: [] for s in stacks}
    t0 = time.time()
    try:
        coturn.start()
        for stack in stacks:
            for i in range(args.runs):
                r = one_run(stack, coturn, args, holder)
                results[stack].append(r)
                if not r["ok"]:
                    sys.stderr.write("%s run %d did not connect (logs %s)\n" % (stack, i + 1, r.get("logs")))
                    sys.stderr.flush()
    except run_pair.Terminated as e:
        sys.stderr.write("turn_bench: terminated (%s)\n" % e)
        return 1
    except RuntimeError as e:
        sys.stderr.write("turn_bench: %s\n" % e)
        return 1
    finally:
        holder.close()
        coturn.stop()
    elapsed = time.time() - t0

    table = {}
    for stack in stacks:
        rs = results[stack]
        table[stack] = {
            "relay": stats([x for r in rs for x in r["relay_ms"]]),
            "connect": stats([r["connect_ms"] for r in rs if r["ok"]]),
            "relay_launch": stats([x for r in rs for x in r["relay_from_launch_ms"]]),
            "connect_launch": stats([r["connect_from_launch_ms"] for r in rs if r["ok"]]),
            # The later of the two sides (the controlled one may connect after the controller).
            "both": stats([max(r["connect_ms"], r["answer_connected_ms"]) for r in rs
                           if r["ok"] and r["connect_ms"] is not None and r["answer_connected_ms"] is not None]),
            "failed": sum(1 for r in rs if not r["ok"]),
            "selected": sorted({r["selected"] for r in rs if r["selected"]}),
        }
    print("ice-bench turn: coturn %s on 127.0.0.1:%d (own network namespace), UDP, relay-only, "
          "%d runs per stack, %.0f s" % (coturn.version(), coturn.port, args.runs, elapsed))
    print()
    print("%-10s  %-24s  %-24s  %-22s" % ("", "relayed candidate (ms)", "relay-only connect (ms)", "from launch (ms)"))
    print("%-10s  %7s %7s %6s    %7s %7s %6s    %9s %10s" % ("stack", "median", "p90", "n", "median", "p90", "n",
                                                          "relayed", "connected"))
    for stack in stacks:
        t = table[stack]
        n_conn = t["connect"]["n"] if t["connect"] else 0
        print("%-10s  %7s %7s %6s    %7s %7s %6s    %9s %10s%s" % (
            stack, fmt(t["relay"], "median"), fmt(t["relay"], "p90"), t["relay"]["n"] if t["relay"] else 0,
            fmt(t["connect"], "median"), fmt(t["connect"], "p90"), n_conn,
            fmt(t["relay_launch"], "median"), fmt(t["connect_launch"], "median"),
            "" if not t["failed"] else "   (%d of %d runs failed)" % (t["failed"], args.runs)))
    print("%-10s  %s" % ("reference", "the issue's figures, measured elsewhere: " + REFERENCE))
    base = table.get("ice-agent", {}).get("connect")
    base_relay = table.get("ice-agent", {}).get("relay")
    if base and base_relay:
        print()
        for stack in stacks:
            if stack == "ice-agent":
                continue
            t = table[stack]
            if t["connect"] and t["relay"]:
                print("%s / ice-agent: relayed candidate %.1fx, relay-only connect %.1fx" % (
                    stack, t["relay"]["median"] / max(base_relay["median"], 0.01),
                    t["connect"]["median"] / max(base["median"], 0.01)))
    print()
    print("relayed candidate: start of gathering to the relayed candidate (two samples per run); "
          "connect: both relayed candidates delivered to the controlling side's ICE completed.")
    print("both sides connected (the later of the two, same origin): " + ", ".join(
        "%s median %s p90 %s ms" % (stack, fmt(table[stack]["both"], "median"), fmt(table[stack]["both"], "p90"))
        for stack in stacks if table[stack]["both"]))
    for stack in stacks:
        if table[stack]["selected"]:
            print("%s selected: %s" % (stack, "; ".join(table[stack]["selected"][:2])))
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"coturn_port": coturn.port, "table": table, "runs": results}, f, indent=1, sort_keys=True)
    if any(table[s]["failed"] for s in stacks):
        return 1
    shutil.rmtree(logdir, ignore_errors=True)
    return 0


# ---------------------------------------------------------------- namespace (outer process)

def outer(args, argv):
    def timed_out(name):
        sys.stderr.write("turn_bench: timed out after %d s inside %s\n" % (limit, name))
    limit = 30 + len(args.stacks) * args.runs * (args.timeout + 5)
    # Ephemeral (client) ports above coturn's relay range (a per-namespace setting).
    setup = [["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=%d 60999" % (RELAY_PORTS[1] + 1)]]
    return run_pair.run_in_namespace(__file__, argv, limit, timed_out, name_length=8, setup=setup)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="connects per stack (default 10)")
    ap.add_argument("--ice-agent", default=os.path.join(REPO, ".build", "release", "ice-agent"))
    ap.add_argument("--only", help="comma-separated stacks (%s)" % ",".join(STACKS))
    ap.add_argument("--timeout", type=int, default=8, help="seconds a run may take to connect (default 8)")
    ap.add_argument("--log-level", default="info", help="ice-agent and peers (default info)")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--json", help="write every run's figures to this file")
    ap.add_argument("--inside-netns", help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    args = ap.parse_args(argv)
    args.ice_agent = os.path.abspath(args.ice_agent)
    args.stacks = [s for s in STACKS if not args.only or s in args.only.split(",")]
    if not args.stacks or args.runs < 1:
        ap.error("nothing to run")
    try:
        if args.inside_netns:
            return inner(args)
        check_dependencies(args.stacks, args.ice_agent)
        return outer(args, argv)
    except run_pair.Missing as e:
        sys.stderr.write("turn_bench: missing: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
