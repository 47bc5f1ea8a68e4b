#!/usr/bin/python3
"""An ICE peer built on libnice (through PyGObject, with ctypes for the calls its GIR cannot
express) that speaks ice-agent's `--signal stdio` protocol. Run it with Debian's
/usr/bin/python3 (python3-gi, gir1.2-nice-0.1, libnice10).

stdout: our description (SDP, CRLF, ending with an empty line) with the host candidates on
--addresses, then `a=end-of-candidates`. stdin: the other side's description, then trickled
`a=candidate:` lines and `a=end-of-candidates` (passed to libnice as
peer_candidate_gathering_done; with the ICE_TRICKLE option libnice does not give up before).

Once the component is READY it sends RTP packets (every --interval s, until --duration) with
nice_agent_send and counts the RTP packets it receives (nice_agent_attach_recv: the GIR skips
that function, so both go through ctypes on libnice.so.10). It writes a JSON summary (see
common.Summary) to --summary and to stderr.

Exit status: 0 connected, 3 never connected, 1 error.

    libnice_peer.py --controlling|--controlled [--duration S] [--summary FILE]
                    [--addresses 127.0.0.1,::1] [--aggressive] [--log-level debug]
                    [--turn HOST:PORT --turn-user USER:PASSWORD [--relay-only]]

--turn adds a relayed candidate over UDP (nice_agent_set_relay_info, NICE_RELAY_TYPE_TURN_UDP);
--relay-only sets libnice's `force-relay` (only relayed candidates are offered and checked).
The time from gather_candidates() to the relayed candidate (new-candidate-full of type
relay) is logged (`relayed candidate ... after X ms of gathering`) and kept in the summary as
`relay_ms`; `gathering_done_ms` is candidate-gathering-done.

Nomination: regular (RFC 8445) by default; --aggressive gives libnice's RFC 5245 aggressive
nomination (every check carries USE-CANDIDATE), its default without
NICE_AGENT_OPTION_REGULAR_NOMINATION.
"""

import ctypes
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

try:
    import gi
    gi.require_version("Nice", "0.1")
    from gi.repository import GLib, Nice
    libnice = ctypes.CDLL("libnice.so.10")
except (ImportError, ValueError, OSError) as e:
    sys.stderr.write("libnice_peer: libnice with PyGObject is not available (%s): run "
                     "`apt-get install python3-gi gir1.2-nice-0.1 libnice10` (or scripts/install-deps); "
                     "use /usr/bin/python3\n" % e)
    sys.exit(1)

# void (*NiceAgentRecvFunc)(NiceAgent *, guint stream_id, guint component_id, guint len,
#                           gchar *buf, gpointer user_data)
RECV_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                             ctypes.POINTER(ctypes.c_char), ctypes.c_void_p)
libnice.nice_agent_attach_recv.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p,
                                           RECV_FUNC, ctypes.c_void_p]
libnice.nice_agent_attach_recv.restype = ctypes.c_int
libnice.nice_agent_send.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_char_p]
libnice.nice_agent_send.restype = ctypes.c_int
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def gobject_pointer(obj):
    """The C pointer behind a PyGObject object."""
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


def address_text(addr):
    host = addr.dup_string() if hasattr(addr, "dup_string") else "?"
    port = addr.get_port()
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


class Peer:
    def __init__(self, args):
        self.args = args
        self.role = "controlling" if args.controlling else "controlled"
        self.summary = common.Summary("libnice-0.1 (libnice.so.10)", self.role)
        self.loop = GLib.MainLoop()
        self.ctx = GLib.MainContext.default()
        options = Nice.AgentOption.ICE_TRICKLE
        if not args.aggressive:
            options |= Nice.AgentOption.REGULAR_NOMINATION
        self.agent = Nice.Agent.new_full(self.ctx, Nice.Compatibility.RFC5245, options)
        self.agent.set_property("upnp", False)
        self.agent.set_property("ice-tcp", False)
        self.agent.set_property("controlling-mode", bool(args.controlling))
        self.turn = common.turn_config(args)
        if args.relay_only:
            self.agent.set_property("force-relay", True)
        self.agent_ptr = gobject_pointer(self.agent)
        self.stream = self.agent.add_stream(1)
        if self.turn:
            host, port, user, password = self.turn
            if not self.agent.set_relay_info(self.stream, 1, host, port, user, password, Nice.RelayType.UDP):
                raise ValueError("libnice refused the TURN server %s:%d" % (host, port))
        self.t_gather = None
        self.remote = common.RemoteDescription()
        self.description_in = False
        self.description_out = False
        self.eoc_sent_to_nice = False
        self.ssrc = common.random_ssrc()
        self.seq = 0
        self.state = None
        self.selected = None
        self.code = 3
        for a in args.addresses.split(","):
            if not a:
                continue
            addr = Nice.Address()
            addr.init()
            if not addr.set_from_string(a):
                raise ValueError("bad address %r" % a)
            self.agent.add_local_address(addr)
        self.agent.connect("candidate-gathering-done", self.on_gathering_done)
        self.agent.connect("new-candidate-full", self.on_new_candidate)
        self.agent.connect("component-state-changed", self.on_state)
        self.agent.connect("new-selected-pair-full", self.on_selected)
        # The callback object must outlive the agent's use of it.
        self.recv_cb = RECV_FUNC(self.on_recv)
        ok = libnice.nice_agent_attach_recv(self.agent_ptr, self.stream, 1,
                                            gobject_pointer_or_null(self.ctx), self.recv_cb, None)
        if not ok:
            raise RuntimeError("nice_agent_attach_recv failed")

    def log(self, msg):
        common.log("libnice_peer(%s)" % self.role, msg)

    # ------------------------------------------------------------ libnice callbacks

    def since_gather_ms(self):
        return round((time.monotonic() - self.t_gather) * 1000, 1) if self.t_gather is not None else None

    def on_new_candidate(self, agent, candidate):
        if candidate.type == Nice.CandidateType.RELAYED and "relay_ms" not in self.summary.data:
            self.summary.data["relay_ms"] = self.since_gather_ms()
            self.log("relayed candidate %s after %.1f ms of gathering" % (
                address_text(candidate.addr), self.summary.data["relay_ms"]))

    def on_gathering_done(self, agent, stream_id):
        if self.description_out:
            return
        self.summary.data["gathering_done_ms"] = self.since_gather_ms()
        if self.turn and "relay_ms" not in self.summary.data:
            self.log("no relayed candidate from %s:%d after %.1f ms of gathering" % (
                self.turn[0], self.turn[1], self.summary.data["gathering_done_ms"]))
        self.description_out = True
        ok, ufrag, pwd = agent.get_local_credentials(self.stream)
        cands = agent.get_local_candidates(self.stream, 1)
        lines = [agent.generate_local_candidate_sdp(c) for c in cands]
        port = cands[0].addr.get_port() if cands else 9
        common.emit(common.description(ufrag, pwd, lines, port=port))
        common.emit("a=end-of-candidates" + common.CRLF)
        self.log("description sent: %d candidates" % len(lines))

    def on_state(self, agent, stream_id, component_id, state):
        self.state = state
        self.log("component %d state %s" % (component_id, Nice.component_state_to_string(state)))
        if state == Nice.ComponentState.READY and not self.summary.data["connected"]:
            self.summary.connected(self.selected)
            self.code = 0
            self.log("ICE completed in %.1f ms, selected %s" % (self.summary.data["connect_ms"], self.selected))
            GLib.timeout_add(max(1, int(self.args.interval * 1000)), self.send_tick)
        elif state == Nice.ComponentState.FAILED and not self.summary.data["connected"]:
            self.summary.data["error"] = "not connected: libnice component FAILED"
            self.log(self.summary.data["error"])
            self.finish()

    def on_selected(self, agent, stream_id, component_id, local, remote):
        self.selected = "%s -> %s" % (address_text(local.addr), address_text(remote.addr))
        if self.summary.data["connected"]:
            self.summary.data["selected"] = self.selected
        self.log("selected %s (%s/%s)" % (self.selected, Nice.Candidate.type_to_string(local.type),
                                          Nice.Candidate.type_to_string(remote.type)))

    def on_recv(self, agent_ptr, stream_id, component_id, length, buf, user_data):
        data = ctypes.string_at(buf, length)
        if common.is_rtp(data):
            self.summary.data["received"] += 1
        else:
            self.summary.data["received_non_rtp"] += 1

    def send_tick(self):
        if time.monotonic() >= self.summary.t0 + self.args.duration - 0.5:
            return False
        pkt = common.rtp_packet(self.seq, self.ssrc)
        n = libnice.nice_agent_send(self.agent_ptr, self.stream, 1, len(pkt), pkt)
        if n == len(pkt):
            self.seq += 1
            self.summary.data["sent"] = self.seq
        return True

    # ------------------------------------------------------------ signaling in

    def on_line(self, line):
        if line is None:  # EOF: nothing more will come
            self.end_of_candidates()
            return False
        if not self.description_in:
            if line == "":
                if self.remote.ufrag or self.remote.saw_media:
                    self.apply_description()
                return False
            self.remote.feed(line)
            return False
        if line.startswith("a=candidate:"):
            self.add_remote(line)
        elif line.strip() == "a=end-of-candidates":
            self.end_of_candidates()
        return False

    def apply_description(self):
        self.description_in = True
        r = self.remote
        if not (r.ufrag and r.pwd):
            self.summary.data["error"] = "remote description without ice-ufrag/ice-pwd"
            self.log(self.summary.data["error"])
            return
        self.agent.set_remote_credentials(self.stream, r.ufrag, r.pwd)
        for text in r.candidates:
            self.add_remote("a=candidate:" + text)
        self.log("remote description: ufrag %s, %d candidates%s" % (
            r.ufrag, len(r.candidates), ", ice-lite" if r.lite else ""))
        if r.end_of_candidates:
            self.end_of_candidates()

    def add_remote(self, line):
        # Filter on the text: the GIR's NiceCandidate field offsets past `addr` do not match
        # the C struct (component_id reads 0, stream_id reads address bytes), so the fields of
        # a parsed candidate cannot be trusted from Python. libnice itself uses the C struct.
        bits = line.strip()[len("a=candidate:"):].split()
        if len(bits) < 8 or bits[1] != "1" or bits[2].lower() != "udp":
            return
        c = self.agent.parse_remote_candidate_sdp(self.stream, line.strip())
        if c is None:
            self.log("libnice could not parse remote candidate %r" % line)
            return
        n = self.agent.set_remote_candidates(self.stream, 1, [c])
        if n < 1:
            self.log("libnice refused remote candidate %r" % line)

    def end_of_candidates(self):
        if self.description_in and not self.eoc_sent_to_nice:
            self.eoc_sent_to_nice = True
            self.agent.peer_candidate_gathering_done(self.stream)

    def stdin_thread(self):
        for raw in sys.stdin:
            line = raw.rstrip("\r\n")
            GLib.idle_add(self.on_line, line)
        GLib.idle_add(self.on_line, None)

    # ------------------------------------------------------------ run

    def finish(self):
        if self.loop.is_running():
            self.loop.quit()
        return False

    def run(self):
        threading.Thread(target=self.stdin_thread, daemon=True).start()
        self.t_gather = time.monotonic()
        if not self.agent.gather_candidates(self.stream):
            raise RuntimeError("gather_candidates failed")
        GLib.timeout_add(int(self.args.duration * 1000), self.finish)
        self.loop.run()
        if not self.summary.data["connected"] and not self.summary.data["error"]:
            self.summary.data["error"] = "not connected by the end (state %s)" % (
                Nice.component_state_to_string(self.state) if self.state is not None else "none")
        self.summary.write(self.args.summary)
        return self.code


def gobject_pointer_or_null(ctx):
    """libnice's attach_recv takes a GMainContext*; NULL means the default context."""
    return None


def main():
    ap = common.peer_argument_parser()
    ap.add_argument("--aggressive", action="store_true", help="RFC 5245 aggressive nomination")
    args = ap.parse_args()
    if args.log_level == "trace":
        os.environ.setdefault("G_MESSAGES_DEBUG", "libnice")
        os.environ.setdefault("NICE_DEBUG", "all")
    # GLib writes debug and info messages to stdout, which carries the signaling.
    if hasattr(GLib, "log_writer_default_set_use_stderr"):
        GLib.log_writer_default_set_use_stderr(True)
    try:
        return Peer(args).run()
    except Exception as e:
        common.log("libnice_peer", "error: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
