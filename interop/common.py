"""Shared pieces of the interop peers: the stdio signaling format of `ice-agent --signal stdio`
(an SDP description ending with an empty line, then trickled `a=candidate:` lines and
`a=end-of-candidates`), RTP packets, and the JSON summary.

Kept free of third-party imports: both peers (aioice, libnice through PyGObject) use it.
"""

import argparse
import json
import os
import random
import struct
import sys
import time

CRLF = "\r\n"


def description(ufrag, pwd, candidate_lines, port=9, lite=False, trickle=True):
    """An SDP description (RFC 8866 + RFC 8839) in the form ice-agent reads: session-level
    ICE credentials, one m= line, the candidates under it, ending with an empty line."""
    lines = [
        "v=0",
        "o=- %d 1 IN IP4 127.0.0.1" % random.randint(1, 2**31),
        "s=-",
        "t=0 0",
    ]
    if lite:
        lines.append("a=ice-lite")
    if trickle:
        lines.append("a=ice-options:trickle")
    lines += [
        "a=ice-ufrag:" + ufrag,
        "a=ice-pwd:" + pwd,
        "m=video %d RTP/AVP 96" % port,
        "c=IN IP4 127.0.0.1",
        "a=mid:0",
        "a=rtcp-mux",
        "a=rtpmap:96 H264/90000",
    ]
    lines += list(candidate_lines)
    return CRLF.join(lines) + CRLF + CRLF


class RemoteDescription:
    """What a peer needs from the other side's description."""

    def __init__(self):
        self.ufrag = None
        self.pwd = None
        self.lite = False
        self.candidates = []  # the text after "a=candidate:"
        self.end_of_candidates = False
        self.saw_media = False

    def feed(self, line):
        """Feeds one description line (without line ending)."""
        if line.startswith("m="):
            self.saw_media = True
        elif line.startswith("a=ice-ufrag:"):
            self.ufrag = line[len("a=ice-ufrag:"):].strip()
        elif line.startswith("a=ice-pwd:"):
            self.pwd = line[len("a=ice-pwd:"):].strip()
        elif line.strip() == "a=ice-lite":
            self.lite = True
        elif line.startswith("a=candidate:"):
            self.candidates.append(line[len("a=candidate:"):].strip())
        elif line.strip() == "a=end-of-candidates":
            self.end_of_candidates = True


def rtp_packet(seq, ssrc, payload_size=100, pt=96):
    """A valid RTP packet (RFC 3550: version 2, 12-byte header)."""
    ts = (seq * 3000) & 0xFFFFFFFF
    header = struct.pack("!BBHII", 0x80, pt & 0x7F, seq & 0xFFFF, ts, ssrc)
    return header + bytes([0x55]) * payload_size


def is_rtp(data):
    """Version 2 and a full fixed header; payload types 72-76 would be RTCP (RFC 5761)."""
    return len(data) >= 12 and (data[0] >> 6) == 2


def random_ssrc():
    return random.getrandbits(32)


class Summary:
    """The JSON line a peer leaves behind (file given with --summary, and stderr)."""

    def __init__(self, impl, role):
        self.t0 = time.monotonic()
        self.data = {
            "impl": impl,
            "role": role,
            "connected": False,
            "connect_ms": None,  # from this process's start
            "connected_unix": None,  # wall clock, for the driver to compare with its own times
            "sent": 0,
            "received": 0,
            "received_non_rtp": 0,
            "selected": None,
            "error": None,
        }

    def connected(self, selected=None):
        if not self.data["connected"]:
            self.data["connected"] = True
            self.data["connect_ms"] = round((time.monotonic() - self.t0) * 1000, 1)
            self.data["connected_unix"] = time.time()
            self.data["selected"] = selected

    def write(self, path):
        text = json.dumps(self.data, sort_keys=True)
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, path)
        sys.stderr.write("summary: " + text + "\n")
        sys.stderr.flush()


def emit(text):
    """Writes signaling to stdout at once (the driver cross-wires it to the other side)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def log(prefix, msg):
    sys.stderr.write("%s: %s\n" % (prefix, msg))
    sys.stderr.flush()


def peer_argument_parser(addresses_help="host candidate addresses"):
    """The command line every peer shares (run_pair.py passes the same options to each)."""
    ap = argparse.ArgumentParser()
    role = ap.add_mutually_exclusive_group(required=True)
    role.add_argument("--controlling", action="store_true")
    role.add_argument("--controlled", action="store_true")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds from start to exit")
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between RTP packets")
    ap.add_argument("--summary", help="file for the JSON summary")
    ap.add_argument("--addresses", default="127.0.0.1,::1", help=addresses_help)
    ap.add_argument("--log-level", default="warning")
    # TURN (RFC 8656) over UDP; absent: host candidates only, as before.
    ap.add_argument("--turn", metavar="HOST:PORT", help="TURN server (numeric IPv4) for a relayed candidate")
    ap.add_argument("--turn-user", metavar="USER:PASSWORD", help="the TURN server's long-term credential")
    ap.add_argument("--relay-only", action="store_true", help="offer the relayed candidate only (needs --turn)")
    return ap


def turn_config(args):
    """(host, port, username, password) from --turn/--turn-user, or None without --turn.
    Exits 2 (usage) on a malformed value or --relay-only without --turn."""
    if not getattr(args, "turn", None):
        if getattr(args, "relay_only", False):
            sys.stderr.write("--relay-only needs --turn HOST:PORT\n")
            sys.exit(2)
        return None
    host, sep, port = args.turn.rpartition(":")
    user, colon, password = (args.turn_user or "").partition(":")
    if not sep or not host or not port.isdigit() or not colon:
        sys.stderr.write("--turn takes HOST:PORT and needs --turn-user USER:PASSWORD\n")
        sys.exit(2)
    return host.strip("[]"), int(port), user, password


def dump_logs(logdir, last=40):
    """Every file in `logdir` to stderr, its last `last` lines under a header: what a failed run
    leaves for the person reading CI output."""
    for name in sorted(os.listdir(logdir)):
        path = os.path.join(logdir, name)
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            continue
        sys.stderr.write("==== %s (%d lines, last %d)\n" % (path, len(lines), last))
        sys.stderr.writelines(lines[-last:])
    sys.stderr.flush()
