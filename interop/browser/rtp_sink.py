#!/usr/bin/python3
"""Listens on ice-agent's --rtp-out and tells what arrived: datagrams, RTP version 2 ones, payload
types, and whether the payloads look decrypted. SRTP leaves the RTP header in clear (RFC 3711
§3.1), so the header alone cannot tell; an Opus payload can: its first byte is the TOC (RFC 6716
§3.1), which for a WebRTC sender's packets says one frame (code 0) of 20 ms whatever mode
(SILK, hybrid, CELT) and bandwidth the encoder picks, while an SRTP-encrypted payload starts with
a uniformly random byte (that holds for about 7% of them). On SIGTERM it writes one JSON line to
--summary (and stderr).
"""

import argparse
import collections
import json
import signal
import socket
import sys
import time


def payload_offset(data):
    """Where the payload starts (RFC 3550 §5.1, §5.3.1), or None for a malformed packet."""
    if len(data) < 12:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
    return offset if offset < len(data) else None


def opus_one_20ms_frame(toc):
    """RFC 6716 §3.1: config (5 bits), s, c; 20 ms is config 1, 5, 9 (SILK), 13, 15 (hybrid),
    19, 23, 27, 31 (CELT); c == 0 is one frame."""
    config = toc >> 3
    twenty = (config < 12 and config % 4 == 1) or (12 <= config < 16 and config % 2 == 1) or (config >= 16 and config % 4 == 3)
    return twenty and toc & 0x03 == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="ADDR:PORT")
    ap.add_argument("--summary")
    args = ap.parse_args()
    # A parent may have blocked these (a test runner's thread): SIGTERM must stop us, and our children.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    host, _, port = args.listen.rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    s.settimeout(0.2)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    packets = version2 = 0
    pts = collections.Counter()
    first_bytes = collections.Counter()  # per payload type: payload's first byte
    opus_like = collections.Counter()  # per payload type: payloads starting with a one-20-ms-frame TOC
    first_at = None
    sys.stderr.write("rtp sink on %s\n" % args.listen)
    sys.stderr.flush()
    while running[0]:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        packets += 1
        first_at = first_at or time.time()
        if len(data) >= 12 and data[0] >> 6 == 2:
            version2 += 1
            pt = data[1] & 0x7F
            pts[pt] += 1
            off = payload_offset(data)
            if off is not None:
                first_bytes[(pt, data[off])] += 1
                if opus_one_20ms_frame(data[off]):
                    opus_like[pt] += 1
    summary = {"packets": packets, "rtp_v2": version2, "payload_types": {str(k): v for k, v in pts.items()},
               "first_unix": first_at}
    # The share of the commonest first payload byte, per payload type (Opus TOC constancy).
    shares = {}
    for pt, n in pts.items():
        top = max((c for (p, _), c in first_bytes.items() if p == pt), default=0)
        shares[str(pt)] = round(top / n, 3) if n else 0
    summary["first_byte_share"] = shares
    summary["opus_20ms_share"] = {str(pt): round(opus_like[pt] / n, 3) for pt, n in pts.items() if n}
    text = json.dumps(summary, sort_keys=True)
    if args.summary:
        with open(args.summary, "w") as f:
            f.write(text + "\n")
    sys.stderr.write("summary: " + text + "\n")


if __name__ == "__main__":
    main()
