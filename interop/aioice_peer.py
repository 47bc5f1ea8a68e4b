#!/usr/bin/env python3
"""An ICE peer built on aioice that speaks ice-agent's `--signal stdio` protocol.

stdout: our description (SDP, CRLF, ending with an empty line), then `a=end-of-candidates`
(aioice gathers all host candidates at once, so they are all in the description).
stdin: the other side's description, then trickled `a=candidate:` lines and
`a=end-of-candidates` (aioice only reports failure after end-of-candidates, so EOF counts as
end-of-candidates too).

Once connected it sends RTP packets (every --interval s, until --duration) over the
selected pair with `Connection.sendto`, counts the RTP packets it receives, and writes a JSON
summary (see common.Summary) to --summary and to stderr.

Exit status: 0 connected, 3 never connected, 1 error.

    aioice_peer.py --controlling|--controlled [--duration S] [--summary FILE]
                   [--addresses 127.0.0.1,::1] [--log-level debug]
                   [--turn HOST:PORT --turn-user USER:PASSWORD [--relay-only]]

--turn adds a relayed candidate over UDP (aioice's turn_server/turn_username/turn_password);
--relay-only gathers that one only (TransportPolicy.RELAY: no host candidates). The time from
the start of gathering to the relayed candidate is logged (`relayed candidate ... after X ms of
gathering`) and kept in the summary as `relay_ms`.
"""

import asyncio
import logging
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

try:
    import aioice
    import aioice.ice
except ImportError:
    sys.stderr.write(
        "aioice_peer: aioice is not installed: run "
        "`/usr/bin/python3 -m pip install --break-system-packages aioice==0.13.0` "
        "(or scripts/install-deps)\n"
    )
    sys.exit(1)


def main():
    ap = common.peer_argument_parser("host candidate addresses (aioice skips loopback on its own)")
    args = ap.parse_args()
    level = getattr(logging, args.log_level.upper(), logging.WARNING)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="aioice_peer %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(Peer(args).run())
    except KeyboardInterrupt:
        return 1


class Peer:
    def __init__(self, args):
        self.args = args
        self.role = "controlling" if args.controlling else "controlled"
        self.summary = common.Summary("aioice-" + getattr(aioice, "__version__", "?"), self.role)
        self.deadline = self.summary.t0 + args.duration
        self.lines = None  # asyncio.Queue of stdin lines (None at EOF)

    def log(self, msg):
        common.log("aioice_peer(%s)" % self.role, msg)

    def _stdin_thread(self, loop):
        for raw in sys.stdin:
            loop.call_soon_threadsafe(self.lines.put_nowait, raw.rstrip("\r\n"))
        loop.call_soon_threadsafe(self.lines.put_nowait, None)

    async def run(self):
        addresses = [a for a in self.args.addresses.split(",") if a]
        use_ipv6 = any(":" in a for a in addresses)
        # aioice enumerates interfaces itself and drops 127.0.0.1 and ::1; inside the test's
        # network namespace only loopback exists, so hand it the addresses.
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [
            a for a in addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]
        options = {}
        turn = common.turn_config(self.args)
        if turn:
            options.update(turn_server=(turn[0], turn[1]), turn_username=turn[2], turn_password=turn[3],
                           turn_transport="udp")
        if self.args.relay_only:
            options["transport_policy"] = aioice.TransportPolicy.RELAY
        conn = aioice.Connection(ice_controlling=self.args.controlling, components=1,
                                 use_ipv4=True, use_ipv6=use_ipv6, **options)
        loop = asyncio.get_running_loop()
        self.lines = asyncio.Queue()
        threading.Thread(target=self._stdin_thread, args=(loop,), daemon=True).start()
        code = 3
        try:
            t_gather = time.monotonic()
            await conn.gather_candidates()
            gather_ms = round((time.monotonic() - t_gather) * 1000, 1)
            relayed = [c for c in conn.local_candidates if c.type == "relay"]
            if relayed:
                # aioice hands out all candidates at once: the relayed one exists when
                # gather_candidates() returns.
                self.summary.data["relay_ms"] = gather_ms
                self.log("relayed candidate %s:%d after %.1f ms of gathering" % (
                    relayed[0].host, relayed[0].port, gather_ms))
            elif turn:
                self.log("no relayed candidate from %s:%d after %.1f ms of gathering" % (turn[0], turn[1], gather_ms))
            cands = ["a=candidate:" + c.to_sdp() for c in conn.local_candidates]
            port = conn.local_candidates[0].port if conn.local_candidates else 9
            common.emit(common.description(conn.local_username, conn.local_password, cands, port=port))
            common.emit("a=end-of-candidates" + common.CRLF)
            self.log("description sent: %d candidates" % len(cands))
            code = await self.negotiate(conn)
        except Exception as e:  # report, never hang
            self.summary.data["error"] = "%s: %s" % (type(e).__name__, e)
            self.log("error: " + self.summary.data["error"])
            code = 1 if code != 3 else 3
        finally:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                pass
            self.summary.write(self.args.summary)
        return code

    async def next_line(self, timeout):
        try:
            return await asyncio.wait_for(self.lines.get(), max(timeout, 0.01))
        except asyncio.TimeoutError:
            raise TimeoutError("no signaling from the other side")

    def add_remote(self, conn, text):
        """Adds one candidate (the text after `a=candidate:`); component 1 UDP only."""
        try:
            c = aioice.Candidate.from_sdp(text)
        except Exception as e:
            self.log("unparsable remote candidate %r: %s" % (text, e))
            return None
        if c.component != 1 or c.transport.lower() != "udp":
            return None
        return c

    async def negotiate(self, conn):
        remote = common.RemoteDescription()
        # The description: up to the first empty line after some content.
        while True:
            line = await self.next_line(self.deadline - time.monotonic())
            if line is None:
                raise EOFError("stdin closed before the remote description")
            if line == "":
                if remote.ufrag or remote.saw_media:
                    break
                continue
            remote.feed(line)
        if not (remote.ufrag and remote.pwd):
            raise ValueError("remote description without ice-ufrag/ice-pwd")
        conn.remote_username, conn.remote_password = remote.ufrag, remote.pwd
        conn.remote_is_lite = remote.lite
        for text in remote.candidates:
            c = self.add_remote(conn, text)
            if c:
                await conn.add_remote_candidate(c)
        self.log("remote description: ufrag %s, %d candidates%s" % (
            remote.ufrag, len(remote.candidates), ", ice-lite" if remote.lite else ""))
        eoc = remote.end_of_candidates
        if eoc:
            await conn.add_remote_candidate(None)

        connect = asyncio.ensure_future(conn.connect())
        # Trickle until end-of-candidates (or EOF), while connect() runs.
        while not eoc and not connect.done():
            getter = asyncio.ensure_future(self.lines.get())
            done, _ = await asyncio.wait({getter, connect}, timeout=self.deadline - time.monotonic(),
                                         return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not done:
                    break  # deadline
                continue
            line = getter.result()
            if line is None or line.strip() == "a=end-of-candidates":
                eoc = True
                await conn.add_remote_candidate(None)
            elif line.startswith("a=candidate:"):
                c = self.add_remote(conn, line[len("a=candidate:"):])
                if c:
                    await conn.add_remote_candidate(c)
        try:
            await asyncio.wait_for(connect, max(self.deadline - time.monotonic(), 0.01))
        except (asyncio.TimeoutError, ConnectionError) as e:
            self.summary.data["error"] = "not connected: %s" % (type(e).__name__ if not str(e) else e)
            self.log(self.summary.data["error"])
            return 3
        pair = conn._nominated.get(1)  # no public accessor for the selected pair
        selected = None
        if pair is not None:
            selected = "%s -> %s" % (pair.local_candidate.host + ":" + str(pair.local_candidate.port),
                                     "%s:%s" % tuple(pair.remote_addr[:2]))
        self.summary.connected(selected)
        self.log("ICE completed in %.1f ms, selected %s" % (self.summary.data["connect_ms"], selected))
        # Drain the rest of the signaling quietly.
        asyncio.ensure_future(self.drain())
        await self.stream(conn)
        return 0

    async def drain(self):
        while (await self.lines.get()) is not None:
            pass

    async def stream(self, conn):
        async def receiver():
            while True:
                data = await conn.recv()
                if common.is_rtp(data):
                    self.summary.data["received"] += 1
                else:
                    self.summary.data["received_non_rtp"] += 1

        rx = asyncio.ensure_future(receiver())
        ssrc = common.random_ssrc()
        seq = 0
        # Leave the last half second for in-flight packets.
        while time.monotonic() < self.deadline - 0.5 and not rx.done():
            await conn.sendto(common.rtp_packet(seq, ssrc), 1)
            seq += 1
            self.summary.data["sent"] = seq
            await asyncio.sleep(self.args.interval)
        await asyncio.sleep(max(0.0, min(0.5, self.deadline - time.monotonic())))
        rx.cancel()
        try:
            await rx
        except (asyncio.CancelledError, ConnectionError):
            pass


if __name__ == "__main__":
    sys.exit(main())
