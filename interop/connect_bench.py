#!/usr/bin/env python3
"""ICE connect-time benchmark across implementations, each pairing run N times (default 10)
through run_pair.py (a fresh network namespace per run, loopback only, IPv4 and IPv6 host
candidates on both sides).

    connect_bench.py [--runs N] [--ice-agent PATH] [--duration S] [--only NAME,...] [--json FILE]

Prints one line per pairing:

    <name>: <median> ms median, <p90> ms p90 of <N>

where the time is from the moment both descriptions had been delivered (the later of the two
empty lines copied by the driver) to both sides' "ICE completed" (the later of the two: connect()
returning / component READY / the `ICE completed` log line, each on the side's own clock):
signaling excluded, process start-up excluded. Then the ratios of each median to the
ice-agent <-> ice-agent median, and the medians from process launch (start-up included). A failed run counts as missing, and is reported.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# name -> run_pair.py arguments (IMPL ROLE [--left LEFT]); the left side plays ROLE.
PAIRINGS = [
    ("ice-agent<->ice-agent", ["ice-agent", "call"]),
    # Both sides with a STUN server configured (ice-agent's own, in the namespace): the first
    # check must not wait behind the gathering request.
    ("ice-agent<->ice-agent --stun", ["ice-agent", "call", "--stun"]),
    ("ice-agent(call)<->aioice", ["aioice", "call"]),
    ("aioice(call)<->ice-agent", ["aioice", "answer"]),
    ("ice-agent(call)<->libnice", ["libnice", "call"]),
    ("libnice(call)<->ice-agent", ["libnice", "answer"]),
    ("ice-agent(call)<->pion", ["pion", "call"]),
    ("pion(call)<->ice-agent", ["pion", "answer"]),
    ("aioice<->aioice", ["aioice", "call", "--left", "aioice"]),
    ("libnice<->libnice", ["libnice", "call", "--left", "libnice"]),
    ("pion<->pion", ["pion", "call", "--left", "pion"]),
]


def p90(values):
    """The 90th percentile, nearest rank."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, -(-9 * len(v) // 10) - 1))]


def both_done(result, key):
    """The later of the two sides' `key` (each side's own "ICE completed": both must be done),
    or None when either lacks it. The controlling side alone can finish before the other side
    has the description it needs: the controlled side answers checks with its own credentials
    before it has the offer (RFC 8445 §7.3), so the controlling side's time alone can fall
    before the later delivery."""
    values = [result.get(side, {}).get(key) for side in ("ours", "peer")]
    return None if None in values else max(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--ice-agent", default=os.path.join(REPO, ".build", "debug", "ice-agent"))
    ap.add_argument("--duration", type=int, default=2, help="seconds per run (connect + a little media)")
    ap.add_argument("--only", help="comma-separated pairing names")
    ap.add_argument("--json", help="write all results to this file")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    medians, launch_medians, failures, everything = {}, {}, {}, {}
    for name, pair_args in PAIRINGS:
        if only and name not in only:
            continue
        after, launch, fails = [], [], 0
        for i in range(args.runs):
            cmd = ["/usr/bin/python3", os.path.join(HERE, "run_pair.py")] + pair_args + [
                "--json", "--duration", str(args.duration), "--ice-agent", args.ice_agent, "--log-level", "info"]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 60)
            except subprocess.TimeoutExpired:
                # A run that hangs (or a peer built on first use on a loaded machine) is a
                # failed run, not the end of the benchmark.
                p = subprocess.CompletedProcess(cmd, 1, "", "run_pair.py timed out after %d s" % (args.duration + 60))
            try:
                r = json.loads(p.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                r = {"ok": False, "error": p.stderr[-500:]}
            everything.setdefault(name, []).append(r)
            if p.returncode == 2:
                sys.stderr.write("%s: %s\n" % (name, r.get("error")))
                return 2
            done_after, done_launch = both_done(r, "after_signaling_ms"), both_done(r, "connect_ms")
            if not r.get("ok") or done_after is None or done_launch is None:
                fails += 1
                sys.stderr.write("%s run %d failed: %s\n" % (name, i + 1, r.get("logs") or r.get("error")))
                continue
            after.append(done_after)
            launch.append(done_launch)
        failures[name] = fails
        if after:
            medians[name] = statistics.median(after)
            launch_medians[name] = statistics.median(launch)
            print("%s: %.2f ms median, %.2f ms p90 of %d%s" % (
                name, medians[name], p90(after), len(after), "" if not fails else " (%d failed)" % fails), flush=True)
        else:
            print("%s: no successful run of %d" % (name, args.runs), flush=True)
    base = medians.get("ice-agent<->ice-agent")
    if base:
        print()
        for name, m in medians.items():
            print("ratio %s / ice-agent<->ice-agent: %.2f" % (name, m / base if base else float("nan")))
    print()
    for name, m in launch_medians.items():
        print("%s: %.1f ms median from launch (start-up included)" % (name, m))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"medians_ms": medians, "launch_medians_ms": launch_medians, "failures": failures,
                       "runs": everything}, f, indent=1, sort_keys=True)
    return 0 if not any(failures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
