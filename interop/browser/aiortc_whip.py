#!/usr/bin/python3
"""An independent WHIP-style answerer on aiortc (PyPI, DTLS-SRTP): the same HTTP surface as
`ice-agent answer --listen` (POST offer -> 201 + answer + Location + ETag, PATCH trickle -> 204,
DELETE -> 200, OPTIONS preflight with CORS for --allow-origin, bearer token from --token-file),
sending a video track (aiortc's own test pattern, VP8 or H264) to an offer that can receive one
(a browser viewer's recvonly), and decoding and counting what it is sent (the intercom's audio,
`ice-agent call`'s camera video: then it is the home that answers the doorbell).

It proves the browser harness (page, driver, namespaces) against a peer known to speak WebRTC,
and is the reference peer for the ice-agent browser tests. On SIGTERM/SIGINT, or after
--duration, it writes one JSON summary line to --summary (and stderr).
"""

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack
import aiortc.rtcdtlstransport
from aiortc.sdp import candidate_from_sdp

CORS_METHODS = "POST, PATCH, DELETE, OPTIONS"


class Answerer:
    def __init__(self, args):
        self.args = args
        self.token = None
        if args.token_file:
            with open(args.token_file) as f:
                self.token = f.read().strip()
        self.sessions = {}
        self.summary = {"impl": "aiortc", "offers": 0, "answers": 0, "refused": {}, "audio_frames": 0,
                        "video_frames_sent": 0, "video_frames_received": 0, "video_size": None, "trickled": 0,
                        "connected": False, "connect_ms": None, "error": None, "srtp_profile": None,
                        "failure": None}
        self.t0 = time.monotonic()

    def cors(self, headers):
        origin = headers.get("origin")
        if origin and origin in self.args.allow_origin:
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                    ("Access-Control-Expose-Headers", "Location, ETag, Link")]
        return []

    async def handle(self, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if len(head) > 8192:
                raise ValueError("head too large")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0"))
            if length > 65536:
                raise ValueError("body too large")
            body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
            status, reason, extra, payload = await self.respond(method, target, headers, body)
        except Exception as e:  # a bad request: answer 400, never crash
            status, reason, extra, payload, headers = 400, "Bad Request", [], str(e).encode(), {}
        out = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % h for h in extra + self.cors(headers)]
        out += ["Content-Length: %d" % len(payload), "Connection: close", "", ""]
        writer.write("\r\n".join(out).encode() + payload)
        try:
            await writer.drain()
        finally:
            writer.close()

    async def respond(self, method, target, headers, body):
        if method == "OPTIONS":
            extra = [("Allow", CORS_METHODS)]
            origin = headers.get("origin")
            if origin and origin in self.args.allow_origin:
                extra += [("Access-Control-Allow-Methods", CORS_METHODS),
                          ("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match"),
                          ("Access-Control-Max-Age", "600")]
            return 204, "No Content", extra, b""
        if self.token is not None and headers.get("authorization") != "Bearer " + self.token:
            self.summary["refused"]["401"] = self.summary["refused"].get("401", 0) + 1
            return 401, "Unauthorized", [("WWW-Authenticate", 'Bearer realm="aiortc"')], b""
        if not target.startswith("/session/"):
            if method != "POST":
                return 405, "Method Not Allowed", [("Allow", "POST")], b""
            if not headers.get("content-type", "").startswith("application/sdp"):
                return 415, "Unsupported Media Type", [], b""
            return await self.offer(body.decode())
        sid = target[len("/session/"):]
        pc = self.sessions.get(sid)
        if pc is None:
            return 404, "Not Found", [], b""
        if method == "PATCH":
            return await self.trickle(pc, body.decode())
        if method == "DELETE":
            del self.sessions[sid]
            await pc.close()
            return 200, "OK", [], b""
        return 405, "Method Not Allowed", [("Allow", "PATCH, DELETE")], b""

    async def offer(self, sdp):
        self.summary["offers"] += 1
        if self.sessions:
            return 503, "Service Unavailable", [("Retry-After", "10")], b""
        # RFC 5763 §5: DTLS-SRTP binds the handshake to signaling through the fingerprint; say
        # so plainly rather than with aiortc's own error for its absence.
        for needed, why in (("a=fingerprint:", "RFC 8122 §5"), ("a=setup:", "RFC 4145 §4, RFC 5763 §5")):
            if needed not in sdp:
                self.summary["error"] = "offer refused: no %s line (%s): DTLS-SRTP needs it" % (needed[:-1], why)
                return 400, "Bad Request", [], self.summary["error"].encode()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: nothing leaves the namespaces

        @pc.on("connectionstatechange")
        async def on_state():
            if pc.connectionState == "failed":
                self.summary["failure"] = self.summary["failure"] or "connection failed (ICE or DTLS)"
            if pc.connectionState == "connected" and not self.summary["connected"]:
                self.summary["connected"] = True
                self.summary["connect_ms"] = round((time.monotonic() - self.t0) * 1000)
                # The use_srtp profile the handshake chose (RFC 5764 §4.1.1), as OpenSSL names it.
                try:
                    chosen = pc.getTransceivers()[0].receiver.transport._ssl.get_selected_srtp_profile()
                    self.summary["srtp_profile"] = chosen.decode() if chosen else None
                except Exception as e:  # aiortc's internals moved: say so rather than fail the call
                    self.summary["srtp_profile"] = "unknown (%s: %s)" % (type(e).__name__, e)

        @pc.on("track")
        def on_track(track):
            if track.kind == "audio":
                asyncio.ensure_future(self.count_audio(track))
            else:
                asyncio.ensure_future(self.count_video(track))

        # The remote tracks are announced while the offer is applied: listen first.
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as e:
            await pc.close()
            self.summary["error"] = "offer refused: %s: %s" % (type(e).__name__, e)
            return 400, "Bad Request", [], self.summary["error"].encode()

        if self.args.srtp_profiles:
            # Offer (as DTLS client) or accept (as server) only these use_srtp profiles.
            names = self.args.srtp_profiles.split(",")
            profiles = [p for p in aiortc.rtcdtlstransport.SRTP_PROFILES if p.openssl_profile.decode() in names]
            for t in pc.getTransceivers():
                t.receiver.transport._srtp_profiles = profiles
        receive_only = sendonly_mids(sdp)
        for t in pc.getTransceivers():
            if t.kind == "video":
                # A viewer's recvonly offer gets our video; a camera's sendonly offer gets none.
                if t.mid not in receive_only:
                    pc.addTrack(CountingVideo(self.summary))
                if self.args.codec:
                    caps = RTCRtpSender.getCapabilities("video").codecs
                    chosen = [c for c in caps if c.mimeType.lower() == "video/" + self.args.codec.lower()]
                    t.setCodecPreferences(chosen + [c for c in caps if c.mimeType.lower() == "video/rtx"])
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)  # gathers every candidate first (aiortc has no trickle out)
        sid = secrets.token_hex(16)
        self.sessions[sid] = pc
        self.summary["answers"] += 1
        return 201, "Created", [("Location", "/session/" + sid), ("ETag", '"%s"' % sid[:8]),
                                ("Content-Type", "application/sdp")], pc.localDescription.sdp.encode()

    async def trickle(self, pc, fragment):
        """RFC 8840 §4.4 fragment lines: each a=candidate under the current a=mid."""
        mid = None
        for line in fragment.splitlines():
            line = line.strip()
            if line.startswith("a=mid:"):
                mid = line[len("a=mid:"):]
            elif line.startswith("a=candidate:"):
                try:
                    c = candidate_from_sdp(line[len("a=candidate:"):])
                except Exception:
                    return 400, "Bad Request", [], b"bad candidate"
                c.sdpMid = mid or pc.getTransceivers()[0].mid
                await pc.addIceCandidate(c)
                self.summary["trickled"] += 1
        return 204, "No Content", [], b""

    async def count_video(self, track):
        try:
            while True:
                frame = await track.recv()
                self.summary["video_frames_received"] += 1
                self.summary["video_size"] = "%dx%d" % (frame.width, frame.height)
        except Exception:
            pass

    async def count_audio(self, track):
        try:
            while True:
                await track.recv()
                self.summary["audio_frames"] += 1
        except Exception:
            pass

    def write_summary(self):
        text = json.dumps(self.summary, sort_keys=True)
        if self.args.summary:
            with open(self.args.summary, "w") as f:
                f.write(text + "\n")
        sys.stderr.write("summary: " + text + "\n")
        sys.stderr.flush()


def sendonly_mids(sdp):
    """The mids of the offer's m-sections that only send (the answer cannot send on them)."""
    mids, mid, sendonly = set(), None, False
    for line in sdp.splitlines() + ["m="]:
        if line.startswith("m="):
            if mid is not None and sendonly:
                mids.add(mid)
            mid, sendonly = "", False
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:"):].strip()
        elif line.strip() == "a=sendonly":
            sendonly = True
    return mids


class CountingVideo(VideoStreamTrack):
    """aiortc's test frames (640x480), counted as they go to the encoder."""

    def __init__(self, summary):
        super().__init__()
        self.summary = summary

    async def recv(self):
        frame = await super().recv()
        self.summary["video_frames_sent"] += 1
        return frame


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="ADDR:PORT")
    ap.add_argument("--token-file")
    ap.add_argument("--allow-origin", action="append", default=[])
    ap.add_argument("--codec", default="", help="VP8 or H264 (default: the offer's first)")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--summary")
    ap.add_argument("--srtp-profiles", default="",
                    help="comma-separated OpenSSL names, e.g. SRTP_AEAD_AES_128_GCM (default: aiortc's)")
    args = ap.parse_args()
    # A parent may have blocked these (a test runner's thread): SIGTERM must stop us, and our children.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    a = Answerer(args)
    host, _, port = args.listen.rpartition(":")
    server = await asyncio.start_server(a.handle, host, int(port))
    sys.stderr.write("aiortc WHIP answerer listening on http://%s\n" % args.listen)
    sys.stderr.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    # aiortc fails the DTLS handshake (the peer's certificate included) inside its own tasks:
    # keep the first such error for the summary.
    def on_exception(_loop, context):
        e = context.get("exception")
        a.summary["failure"] = a.summary["failure"] or ("%s: %s" % (type(e).__name__, e) if e else context.get("message"))
        loop.default_exception_handler(context)

    loop.set_exception_handler(on_exception)
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.duration)
    except asyncio.TimeoutError:
        pass
    server.close()
    for pc in list(a.sessions.values()):
        await pc.close()
    a.write_summary()


if __name__ == "__main__":
    asyncio.run(main())
