#!/usr/bin/python3
"""What the DTLS-SRTP handshake adds after ICE against headless Chromium, for ice-agent and for
aiortc as the answerer, in one run (`ice-bench browser` runs this).

    bench_browser.py [--runs N] [--ice-agent PATH] [--crypto-ms C] [--peers ice-agent,aiortc]
                     [--json FILE] [--log-level L] [--keep-logs]

Each run is one run_browser.py call (its namespaces, page, camera and viewer; VP8, mDNS
candidates), the stacks interleaved run by run so the machine's load falls on both alike. Per
run it takes:
  - Chromium's side (both stacks): performance.now() at iceConnectionState connected (or
    completed) and at connectionState connected, which needs DTLS connected too (RFC 5764 §4.1);
    viewer.html records them, cdp_viewer.py returns them as "times".
  - ice-agent's side: its stderr is read here as it is written, each line stamped on arrival
    (the log has no timestamps): "ICE connected" (or completed) to "media: DTLS-SRTP keyed".
    Lines that arrive in one read cannot be told apart; such runs give no figure (counted).
    Its --pcap (stamped in user space as it sends and reads, µs) is the precise view: ICE up
    (a nominating check in on a pair its own check validated) to the server's Finished in,
    split by flight into Chromium's turns and ice-agent's.
  - the round trip between the two namespaces: UDP echo, user space to user space (the path
    the handshake's flights take), 50 samples per run.
Then per stack median and max, one comparison line on Chromium's side (the same observer for
both stacks), and the goal: the handshake adds at most 2 RTTs plus crypto, with C (--crypto-ms)
the CPU of one whole handshake in memory (ice-bench dtls's figure, passed by ice-bench).

Exit status 0 when every stack had a measured run, 1 when not, 2 when something is missing
(the message names the install command). Needs root (namespaces).
"""

import argparse
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_browser as rb  # noqa: E402

ICE_UP = re.compile(r": ICE (connected|completed)$")
KEYED = re.compile(r": media: DTLS-SRTP keyed")
OFFER = re.compile(r"signaling: session \d+ from")
RTT_PORT = 9009

# Runs in the browser's namespace: echoes every datagram until 10 s pass without one.
ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("%s", %d))
s.settimeout(10)
print("echo ready", flush=True)
try:
    while True:
        d, a = s.recvfrom(2048)
        s.sendto(d, a)
except socket.timeout:
    pass
""" % (rb.BROWSER_IP, RTT_PORT)

# Runs in the agent's namespace: waits for the echo, then COUNT round trips 5 ms apart, in µs.
PING = """
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
to = ("%s", %d)
deadline = time.monotonic() + 5
while True:
    s.sendto(b"hello", to)
    try:
        s.recvfrom(2048)
        break
    except socket.timeout:
        if time.monotonic() > deadline:
            print("[]")
            sys.exit(1)
out = []
for i in range(int(sys.argv[1])):
    t = time.perf_counter_ns()
    s.sendto(b"x" * 32, to)
    try:
        s.recvfrom(2048)
        out.append((time.perf_counter_ns() - t) / 1000)
    except socket.timeout:
        pass
    time.sleep(0.005)
print(json.dumps(out))
""" % (rb.BROWSER_IP, RTT_PORT)


class StampedLines:
    """Reads a pipe as it fills; each line gets the monotonic time of the read that brought it
    and that read's number (lines of one read were not told apart)."""

    def __init__(self, pipe, log):
        self.fd = pipe.fileno()
        self.log = log
        self.lines = []
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        buf = b""
        reads = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            now = time.monotonic_ns()
            if not data:
                return
            reads += 1
            self.log.write(data)
            self.log.flush()
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.lines.append((now, reads, line.decode(errors="replace")))

    def first(self, pattern):
        for stamp, read, text in list(self.lines):
            if pattern.search(text):
                return stamp, read
        return None


def dtls_flights(path, schedstat):
    """ice-agent's own record (--pcap: stamped in user space as it sends and reads, µs) of the
    handshake, in ms: its nominating check in, its ClientHello out, the server's first flight
    in (ServerHelloDone), its second flight out, the server's Finished in (the first epoch-1
    record; RFC 6347 §4.2.4), from ICE up (nominating check in and own check answered). None
    when the capture lacks one of them."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    at, marks = 24, {}
    while at + 16 <= len(data):
        sec, usec, n, _ = struct.unpack_from("<IIII", data, at)
        packet = data[at + 16:at + 16 + n]
        at += 16 + n
        if len(packet) < 28 or packet[0] >> 4 != 4:
            continue
        t = sec * 1000.0 + usec / 1000.0
        sent = socket.inet_ntoa(packet[12:16]) == rb.AGENT_IP
        payload = packet[20 + 8:]
        if not payload:
            continue
        if payload[0] < 2 and len(payload) >= 20 and not sent and payload[:2] == b"\x01\x01":
            # Its own check answered: the pair is valid (RFC 8445 §7.2.5.3).
            marks.setdefault("checked", t)
            continue
        if payload[0] < 2 and len(payload) >= 20 and not sent and payload[:2] == b"\x00\x01":
            # RFC 8445 §7.3.1.5: a request with USE-CANDIDATE (0x0025) nominates.
            i = 20
            while i + 4 <= len(payload):
                kind, length = struct.unpack_from(">HH", payload, i)
                if kind == 0x0025:
                    marks.setdefault("nominated", t)
                i += 4 + (length + 3) // 4 * 4
            continue
        if not 20 <= payload[0] <= 63:
            continue
        i = 0
        while i + 13 <= len(payload):
            content, epoch, length = payload[i], struct.unpack_from(">H", payload, i + 3)[0], struct.unpack_from(">H", payload, i + 11)[0]
            body = payload[i + 13:i + 13 + length]
            i += 13 + length
            if sent:
                if content == 22 and epoch == 0 and body[:1] == b"\x01":
                    marks.setdefault("client_hello", t)
                elif content == 22 and epoch == 0 and body[:1] in (b"\x0b", b"\x10", b"\x0f"):
                    marks.setdefault("client_flight", t)
            elif content == 22 and epoch == 0 and body[:1] == b"\x0e":
                marks.setdefault("server_hello_done", t)
            elif epoch == 1:
                marks.setdefault("server_finished", t)
    keys = ("nominated", "checked", "client_hello", "server_hello_done", "client_flight", "server_finished")
    if any(k not in marks for k in keys):
        return None
    # Controlled, it is connected once a nominating check came in on a pair its own check
    # validated (RFC 8445 §7.3.1.5, §8.2): the later of the two.
    up = max(marks["nominated"], marks["checked"])
    out = {}
    # ice-agent's CPU and run-queue wait over its turn (the samples around it).
    before = [s for s in schedstat if s[0] <= marks["server_hello_done"]]
    after = [s for s in schedstat if s[0] >= marks["client_flight"]]
    if before and after:
        out["turn_cpu"] = after[0][1] - before[-1][1]
        out["turn_wait"] = after[0][2] - before[-1][2]
        out["turn_window"] = after[0][0] - before[-1][0]
    return dict(out, **{"check_to_hello": marks["client_hello"] - up,
            "up_to_finished": marks["server_finished"] - up,
            "hello_to_server_flight": marks["server_hello_done"] - marks["client_hello"],
            "server_flight_to_ours": marks["client_flight"] - marks["server_hello_done"],
            "ours_to_finished": marks["server_finished"] - marks["client_flight"],
            "hello_to_finished": marks["server_finished"] - marks["client_hello"]})


class TimedRun(rb.Run):
    """run_browser's run with the answerer's stderr stamped line by line as it arrives."""

    stamped = None
    agent_pid = None
    schedstat = None

    def start(self, ns, name, cmd, stdout=None):
        if name != "answerer":
            return super().start(ns, name, cmd, stdout)
        if self.args.peer == "ice-agent":
            cmd = cmd + ["--pcap", os.path.join(self.logdir, "agent.pcap")]
        log = open(os.path.join(self.logdir, name + ".log"), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((p, name, log))
        self.stamped = StampedLines(p.stderr, log)
        if self.args.peer == "ice-agent":
            self.agent_pid = p.pid  # ip netns exec execs the command: the same process
            if self.args.schedstat:
                self.sample_until = time.monotonic() + 30
                threading.Thread(target=self.sample_schedstat, args=(p.pid,), daemon=True).start()
        return p

    def sample_schedstat(self, pid, seconds=3.0):
        """/proc/PID/schedstat (ns on a core, ns waiting for one) every ~0.5 ms from the offer's
        arrival until ice-agent is keyed (--schedstat: the sampling takes a core's share itself), stamped with the clock its --pcap uses (CLOCK_REALTIME): how
        much of its turn in the handshake was work and how much waiting."""
        self.schedstat = []
        while time.monotonic() < self.sample_until and not self.stamped.first(OFFER):
            time.sleep(0.002)
        deadline = time.monotonic() + seconds
        path = "/proc/%d/schedstat" % pid
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    on, waiting = f.read().split()[:2]
            except (OSError, ValueError):
                return
            self.schedstat.append((time.time() * 1000.0, int(on) / 1e6, int(waiting) / 1e6))
            if self.stamped and self.stamped.first(KEYED):
                return
            time.sleep(0.0005)

    def camera(self, pt):
        """The camera starts once ice-agent is keyed (or 5 s passed): GStreamer's start-up
        (plugin registry, encoder) would otherwise take a core in the middle of the handshake,
        which the doorbell's camera, running before the call, does not."""
        if not self.args.camera_early:
            def later():
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not (self.stamped and self.stamped.first(KEYED)):
                    time.sleep(0.01)
                rb.Run.camera(self, pt)
            threading.Thread(target=later, daemon=True).start()
            return
        rb.Run.camera(self, pt)

    def round_trips(self, count):
        echo = self.start(self.browser_ns, "rtt-echo", [rb.PYTHON, "-u", "-c", ECHO])
        self.wait_log("rtt-echo", "echo ready", echo)
        r = subprocess.run(["ip", "netns", "exec", self.agent_ns, rb.PYTHON, "-c", PING, str(count)],
                           capture_output=True, text=True, timeout=30)
        rb.stop(echo)
        try:
            return [float(v) / 1000 for v in json.loads(r.stdout)]
        except ValueError:
            return []


def one_run(args, peer, current):
    a = argparse.Namespace(peer=peer, ice_agent=args.ice_agent, codec="VP8", mdns=True, intercom=False,
                           foreign_origin=False, camera_early=args.camera_early, schedstat=args.schedstat, timeout=args.timeout, log_level=args.log_level, keep_logs=args.keep_logs)
    rb.check_dependencies(a)
    run = TimedRun(a)
    current[0] = run
    out = {"peer": peer, "ok": False}
    try:
        result = run.run()
        out["ok"] = result.get("ok", False)
        out["error"] = result.get("error")
        times = result.get("times") or {}
        if "iceConnected" in times and "connected" in times:
            out["chromium_ms"] = times["connected"] - times["iceConnected"]
        if "dtls-connecting" in times and "dtls-connected" in times:
            out["chromium_dtls_ms"] = times["dtls-connected"] - times["dtls-connecting"]
        pair = (result.get("media") or {}).get("pair") or {}
        if isinstance(pair.get("rtt"), (int, float)):
            out["stun_rtt_ms"] = pair["rtt"] * 1000
        if peer == "ice-agent" and run.stamped is not None:
            up, keyed = run.stamped.first(ICE_UP), run.stamped.first(KEYED)
            if up and keyed:
                out["agent_ms"] = max(0, keyed[0] - up[0]) / 1e6
                out["same_read"] = up[1] == keyed[1]
            flights = dtls_flights(os.path.join(run.logdir, "agent.pcap"), run.schedstat or [])
            if flights:
                out["flights"] = flights
            # Every line in ms from the first, for --json: where the time went.
            t0 = run.stamped.lines[0][0] if run.stamped.lines else 0
            out["agent_timeline"] = [[round((t - t0) / 1e6, 3), text] for t, _, text in run.stamped.lines]
        out["rtt_ms"] = run.round_trips(50)
        out["logdir"] = run.logdir if args.keep_logs else None
    finally:
        run.teardown()
        current[0] = None
        if not args.keep_logs:
            shutil.rmtree(run.logdir, ignore_errors=True)
    return out


def ms(v):
    return "%.2f" % v


def spread(values):
    return "median %s ms, max %s ms of %d" % (ms(statistics.median(values)), ms(max(values)), len(values))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peers", default="ice-agent,aiortc")
    ap.add_argument("--ice-agent", default=os.path.join(rb.ROOT, ".build/debug/ice-agent"))
    ap.add_argument("--crypto-ms", type=float, default=None, help="CPU of one whole handshake (ice-bench dtls)")
    ap.add_argument("--client-crypto-ms", type=float, default=None,
                    help="the DTLS client's part of it: ice-agent's own work against Chromium")
    ap.add_argument("--camera-early", action="store_true",
                    help="start the camera with the answer, as run_browser.py does, not once keyed")
    ap.add_argument("--cold-client-crypto-ms", type=float, default=None,
                    help="the client's part in an identity's first handshake (each run's ice-agent is fresh)")
    ap.add_argument("--crypto-wall-ms", type=float, default=None,
                    help="the elapsed time of that CPU on this machine now (its load)")
    ap.add_argument("--schedstat", action="store_true",
                    help="sample ice-agent's /proc schedstat through the handshake: its CPU and its wait for a core in its turn")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--log-level", default="info", help="ice-agent's (debug shows the DTLS flights in --json)")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--json", help="also write every run's figures to this file")
    args = ap.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args.ice_agent = os.path.abspath(args.ice_agent)
    peers = [p for p in args.peers.split(",") if p]
    if args.runs < 1 or not peers or any(p not in ("ice-agent", "aiortc") for p in peers):
        ap.error("--runs >= 1 and --peers from ice-agent,aiortc")
    current = [None]

    def terminated(_signum, _frame):
        if current[0] is not None:
            current[0].teardown()
        sys.exit(1)

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGINT, terminated)
    rb.cleanup_stale_namespaces()
    if args.crypto_ms is not None:
        print("dtls-handshake-crypto: CPU median %s ms (one whole handshake, both ends in memory, ice-agent's DTLS: "
              "the goal's crypto)%s%s" % (ms(args.crypto_ms), "; the client's part %s ms (ice-agent's role against Chromium)"
                                          % ms(args.client_crypto_ms) if args.client_crypto_ms is not None else "",
                                          ", %s ms in its identity's first handshake (each run's ice-agent)" % ms(args.cold_client_crypto_ms)
                                          if args.cold_client_crypto_ms is not None else ""), flush=True)
    if args.crypto_wall_ms is not None and args.crypto_ms:
        print("dtls-handshake-crypto-wall: median %s ms elapsed for those %s ms of CPU (%.2fx: the machine's load)"
              % (ms(args.crypto_wall_ms), ms(args.crypto_ms), args.crypto_wall_ms / args.crypto_ms), flush=True)
    runs = {p: [] for p in peers}
    for i in range(args.runs):
        for peer in peers:
            try:
                r = one_run(args, peer, current)
            except rb.Missing as e:
                print("browser: missing: %s" % e, flush=True)
                sys.exit(2)
            except Exception as e:
                r = {"peer": peer, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            runs[peer].append(r)
            parts = []
            if "chromium_ms" in r:
                parts.append("Chromium ICE connected -> connected %s ms" % ms(r["chromium_ms"]))
            if "agent_ms" in r:
                parts.append("ice-agent ICE connected -> keyed " + ("not told apart (one read)" if r["same_read"] else ms(r["agent_ms"]) + " ms"))
            if "flights" in r:
                parts.append("its --pcap: ICE up -> Finished in %s ms" % ms(r["flights"]["up_to_finished"]))
            if r.get("rtt_ms"):
                parts.append("RTT %s ms" % ms(statistics.median(r["rtt_ms"])))
            parts.append("ok" if r["ok"] else "FAILED: %s" % (r.get("error") or "no media")[:300])
            print("browser run %d/%d %s: %s" % (i + 1, args.runs, peer, ", ".join(parts)), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)

    def values(peer, key):
        return [r[key] for r in runs.get(peer, []) if r["ok"] and key in r]

    medians = {}
    for peer in peers:
        chromium = values(peer, "chromium_ms")
        line = "dtls-chromium-%s: Chromium's side (iceConnectionState connected -> connectionState connected) " % peer
        line += spread(chromium) if chromium else "not measured"
        if chromium:
            medians[peer] = statistics.median(chromium)
        dtls = values(peer, "chromium_dtls_ms")
        if dtls:
            line += "; its DTLS transport connecting -> connected " + spread(dtls)
        print(line, flush=True)
        if peer == "ice-agent":
            # Two lines of one read were not told apart: no figure from that run.
            agent = [r["agent_ms"] for r in runs[peer] if r["ok"] and "agent_ms" in r and not r["same_read"]]
            one_read = sum(1 for r in runs[peer] if r.get("same_read"))
            flights = [r["flights"] for r in runs[peer] if r["ok"] and "flights" in r]
            if flights:
                med = {k: statistics.median(f[k] for f in flights) for k in
                       ("check_to_hello", "hello_to_server_flight", "server_flight_to_ours", "ours_to_finished", "hello_to_finished")}
                print("dtls-flights-ice-agent: medians of %d from ice-agent's --pcap: ICE up -> ClientHello out %s ms, "
                      "-> ServerHelloDone in %s ms (Chromium), -> our second flight out %s ms (ice-agent%s), -> Finished in %s ms (Chromium); "
                      "ClientHello -> Finished %s ms" % (len(flights), ms(med["check_to_hello"]), ms(med["hello_to_server_flight"]),
                                                         ms(med["server_flight_to_ours"]),
                                                         "; the client's whole CPU in memory: %s ms%s" % (ms(args.client_crypto_ms), ", first handshake %s ms"
                                                                                                 % ms(args.cold_client_crypto_ms) if args.cold_client_crypto_ms is not None else "")
                                                         if args.client_crypto_ms is not None else "",
                                                         ms(med["ours_to_finished"]), ms(med["hello_to_finished"])), flush=True)
            sampled = [f for f in flights if "turn_cpu" in f]
            if sampled:
                print("dtls-ice-agent-turn: over its second flight's turn (/proc schedstat sampled ~0.5 ms apart, a window of median %s ms "
                      "around it) ice-agent ran %s ms and waited for a core %s ms, medians of %d" % (
                          ms(statistics.median(f["turn_window"] for f in sampled)), ms(statistics.median(f["turn_cpu"] for f in sampled)),
                          ms(statistics.median(f["turn_wait"] for f in sampled)), len(sampled)), flush=True)
            wire = [f["up_to_finished"] for f in flights]
            print("dtls-ice-agent-wire: ICE up -> server's Finished in (ice-agent's --pcap, µs stamps) "
                  + (spread(wire) if wire else "not measured"), flush=True)
            print("dtls-ice-agent-side: ICE connected -> media: DTLS-SRTP keyed (stderr lines stamped on arrival) "
                  + (spread(agent) if agent else "not measured") + "; %d run(s) left out, both lines in one read" % one_read, flush=True)
    if "ice-agent" in medians and "aiortc" in medians:
        ratio = "%.2fx" % (medians["ice-agent"] / medians["aiortc"]) if medians["aiortc"] > 0 else "-"
        print("dtls-vs-chromium: ice-agent %s ms, aiortc %s ms (%s; medians, Chromium's side)"
              % (ms(medians["ice-agent"]), ms(medians["aiortc"]), ratio), flush=True)
    rtts = [v for p in peers for r in runs[p] for v in (r.get("rtt_ms") or [])]
    stun = [r["stun_rtt_ms"] for p in peers for r in runs[p] if "stun_rtt_ms" in r]
    if rtts:
        rtt = statistics.median(rtts)
        print("browser-rtt: median %s ms, p90 %s ms, max %s ms over %d (UDP echo between the namespaces, user space to user space)%s"
              % (ms(rtt), ms(sorted(rtts)[int(0.9 * (len(rtts) - 1))]), ms(max(rtts)), len(rtts),
                 "; Chromium's STUN currentRoundTripTime median %s ms" % ms(statistics.median(stun)) if stun else ""), flush=True)
        # ice-agent's side from its capture when there is one (the stderr stamps lag on a busy
        # machine), and Chromium's.
        judged = [("Chromium's side", medians.get("ice-agent"))]
        wire = [r["flights"]["up_to_finished"] for r in runs.get("ice-agent", []) if r["ok"] and "flights" in r]
        agent = [r["agent_ms"] for r in runs.get("ice-agent", []) if r["ok"] and "agent_ms" in r and not r["same_read"]]
        if wire:
            judged.insert(0, ("ice-agent's side (--pcap)", statistics.median(wire)))
        elif agent:
            judged.insert(0, ("ice-agent's side (stderr)", statistics.median(agent)))
        if args.crypto_ms is None:
            print("goal: <= 2 RTTs + crypto: not judged (no --crypto-ms)", flush=True)
        elif "ice-agent" in peers:
            bound = 2 * rtt + args.crypto_ms
            shown = ["%s %s ms" % (name, ms(v)) for name, v in judged if v is not None]
            met = all(v is not None and v <= bound for _, v in judged)
            print("goal: <= 2 RTTs + crypto = 2 x %s + %s = %s ms: %s: %s" % (
                ms(rtt), ms(args.crypto_ms), ms(bound), ", ".join(shown) or "nothing measured",
                "met" if met else "not met"), flush=True)
            # The same on ice-agent's side with its measured wait for a core in its turn taken
            # out (--schedstat): what the goal asks of its code rather than of this machine.
            less = [r["flights"]["up_to_finished"] - r["flights"]["turn_wait"]
                    for r in runs.get("ice-agent", []) if r["ok"] and "turn_wait" in r.get("flights", {})]
            if less:
                v = statistics.median(less)
                print("goal-less-wait: ice-agent's side (--pcap) less its wait for a core in its turn %s ms (median of %d) <= %s ms: %s"
                      % (ms(v), len(less), ms(bound), "met" if v <= bound else "not met"), flush=True)
    missing = [p for p in peers if p not in medians]
    if missing:
        print("browser: no measured run for " + ", ".join(missing), flush=True)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
