#!/usr/bin/env python3
"""Regenerates the binary seed corpora under fuzz/corpus/ (standard library only): stun,
turn-framing, turn-client, ice-agent and connection. The text targets' seeds (sdp, http, config, board) are
plain files committed as they are.

The RFC 5769 / RFC 8489 vectors are taken byte for byte from Sources/STUNTestVectors/Vectors.swift;
the other seeds are built here. Messages that carry MESSAGE-INTEGRITY(-SHA256) are signed with
the short-term password "fuzz", the key the harness checks with, so the `.ok` paths are reached.
The turn-client, ice-agent and connection seeds are scenarios in their harness's input format
(see the opcode list at the top of fuzz/targets/TURNClientFuzz.swift, AgentFuzz.swift and
ConnectionFuzz.swift): an allocation with a 401 challenge, permissions, channels and relayed
data; an ICE agent connecting in either role, gathering from a STUN server, a role conflict; a
connection whose pair goes direct or through a UDP or TCP relay, a 437, a 300, a restart, close.
Usage: python3 fuzz/seeds.py   (rewrites those five folders in place)
"""
import hashlib, hmac, os, re, struct, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
B = lambda *xs: b"".join(x if isinstance(x, bytes) else bytes([x]) for x in xs)
u16 = lambda v: struct.pack("!H", v)
u32 = lambda v: struct.pack("!I", v)
u64 = lambda v: struct.pack("!Q", v)
COOKIE = 0x2112A442
KEY = b"fuzz"
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")


def attr(t, v, pad=b"\0"):
    return struct.pack("!HH", t, len(v)) + v + pad * (-len(v) % 4)


def message(mtype, attrs, tid=TID, cookie=COOKIE, integrity=False, sha256=None, fingerprint=False):
    """Header + attrs, then MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 (truncated to `sha256`
    bytes) and FINGERPRINT as asked, each computed with the length covering itself."""
    body = b"".join(attrs)
    head = lambda extra: struct.pack("!HHI", mtype, len(body) + extra, cookie) + tid
    if integrity:
        mac = hmac.new(KEY, head(24) + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if sha256:
        mac = hmac.new(KEY, head(4 + sha256) + body, hashlib.sha256).digest()[:sha256]
        body += attr(0x001C, mac)
    if fingerprint:
        crc = (zlib.crc32(head(8) + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(0x8028, struct.pack("!I", crc))
    return head(0) + body


def xor_v4(ip, port):
    a = struct.unpack("!I", bytes(ip))[0] ^ COOKIE
    return struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), a)


def xor_v6(ip16, port, tid=TID):
    mask = struct.pack("!I", COOKIE) + tid
    return struct.pack("!BBH", 0, 2, port ^ (COOKIE >> 16)) + bytes(a ^ b for a, b in zip(ip16, mask))


def vectors():
    text = open(os.path.join(ROOT, "Sources", "STUNTestVectors", "Vectors.swift")).read()
    out = {}
    for name, body in re.findall(r"static let (\w+): \[UInt8\] = \[(.*?)\]", text, re.S):
        out[name] = bytes(int(x, 0) for x in re.findall(r"0x[0-9a-fA-F]+|\d+", body))
    return out


def seeds():
    v = vectors()
    s = {
        "rfc5769-2.1-request": v["rfc5769Request"],
        "rfc5769-2.2-ipv4-response": v["rfc5769IPv4Response"],
        "rfc5769-2.3-ipv6-response": v["rfc5769IPv6Response"],
        "rfc5769-2.4-long-term-request": v["rfc5769LongTermRequest"],
        "rfc8489-b1-published": v["rfc8489B1Published"],
        "rfc8489-b1-corrected": v["rfc8489B1Corrected"],
    }
    # RFC 3489 classic Binding requests: no cookie, 128-bit id; one with CHANGE-REQUEST.
    classic_id = bytes.fromhex("0123456789abcdef0011223344556677")
    s["classic-3489-request"] = struct.pack("!HH", 0x0001, 0) + classic_id
    s["classic-3489-change-request"] = (
        struct.pack("!HH", 0x0001, 8) + classic_id + attr(0x0003, struct.pack("!I", 6)))
    # Unknown comprehension-required attribute (0x7F01) in a Binding request: a 420.
    s["unknown-comprehension-required"] = message(
        0x0001, [attr(0x7F01, b"\x01\x02\x03"), attr(0xC001, b"optional")], fingerprint=True)
    # TURN CreatePermission with an IPv6 XOR-PEER-ADDRESS, signed, with FINGERPRINT.
    peer6 = bytes.fromhex("20010db8123456780011223344556677")
    s["turn-xor-peer-address-ipv6"] = message(
        0x0008, [attr(0x0006, b"alice"), attr(0x0012, xor_v6(peer6, 50000))],
        integrity=True, fingerprint=True)
    # ICE connectivity check: USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, both
    # integrities (SHA-256 truncated to 16 bytes) and FINGERPRINT.
    s["ice-check-request"] = message(
        0x0001, [attr(0x0006, b"abcd:efgh"), attr(0x0024, struct.pack("!I", 0x6E0001FF)),
                 attr(0x802A, struct.pack("!Q", 0x932FF9B151263B36)), attr(0x0025, b"")],
        integrity=True, sha256=16, fingerprint=True)
    # RFC 5780 request: CHANGE-REQUEST (ip+port), RESPONSE-PORT, PADDING.
    s["rfc5780-change-request"] = message(
        0x0001, [attr(0x0003, struct.pack("!I", 6)), attr(0x0027, struct.pack("!HH", 40000, 0)),
                 attr(0x0026, b"\0" * 12)], fingerprint=True)
    # Binding success response with every address form and SOFTWARE.
    s["binding-success-addresses"] = message(
        0x0101, [attr(0x0020, xor_v4([192, 0, 2, 1], 32853)),
                 attr(0x0001, struct.pack("!BBH4B", 0, 1, 32853, 192, 0, 2, 1)),
                 attr(0x802B, struct.pack("!BBH4B", 0, 1, 3478, 198, 51, 100, 1)),
                 attr(0x802C, struct.pack("!BBH", 0, 2, 3479) + bytes.fromhex("20010db8000000000000000000000002")),
                 attr(0x8022, b"fuzz seed")], integrity=True, fingerprint=True)
    # Error response 420 with UNKNOWN-ATTRIBUTES, ALTERNATE-SERVER, REALM, NONCE.
    s["binding-error-420"] = message(
        0x0111, [attr(0x0009, struct.pack("!HBB", 0, 4, 20) + b"Unknown Attribute"),
                 attr(0x000A, struct.pack("!HH", 0x7F01, 0x0003)),
                 attr(0x8023, struct.pack("!BBH4B", 0, 1, 3478, 203, 0, 113, 5)),
                 attr(0x0014, b"example.org"), attr(0x0015, b"f//499k954d6OL34oL9FSTvy64sA")],
        fingerprint=True)
    # TURN Allocate request with the TURN scalar attributes.
    s["turn-allocate-request"] = message(
        0x0003, [attr(0x0019, struct.pack("!B3x", 17)), attr(0x000D, struct.pack("!I", 600)),
                 attr(0x001A, b""), attr(0x0018, b"\x80"), attr(0x0017, struct.pack("!B3x", 1)),
                 attr(0x8000, struct.pack("!B3x", 2)), attr(0x001D, struct.pack("!HH", 2, 0)),
                 attr(0x8002, struct.pack("!HHHH", 1, 0, 2, 0)), attr(0x001E, bytes(32))],
        integrity=True, fingerprint=True)
    # TURN Allocate success: XOR-RELAYED-ADDRESS, RESERVATION-TOKEN, ADDRESS-ERROR-CODE, ICMP.
    s["turn-allocate-success"] = message(
        0x0103, [attr(0x0016, xor_v4([203, 0, 113, 9], 49152)), attr(0x0020, xor_v4([192, 0, 2, 1], 32853)),
                 attr(0x0022, bytes(range(8))), attr(0x000D, struct.pack("!I", 600)),
                 attr(0x8001, struct.pack("!BBBB", 2, 0, 4, 40) + b"Address Family not Supported"),
                 attr(0x8004, struct.pack("!HBB", 0, 3, 1) + bytes(4))], fingerprint=True)
    # TURN Send indication and ChannelBind request: DATA, CHANNEL-NUMBER, XOR-PEER-ADDRESS v4.
    s["turn-send-indication"] = message(
        0x0016, [attr(0x0012, xor_v4([198, 51, 100, 7], 5000)), attr(0x0013, b"\x80\x00rtp payload")])
    s["turn-channel-bind"] = message(
        0x0009, [attr(0x000C, struct.pack("!HH", 0x4000, 0)), attr(0x0012, xor_v4([198, 51, 100, 7], 5000))],
        integrity=True, fingerprint=True)
    # Binding request with a trailing datagram tail (bytes beyond the header's length).
    s["trailing-bytes"] = message(0x0001, [attr(0x8022, b"tail")], fingerprint=True) + b"\xde\xad\xbe\xef"
    # The `stun decode` path: the RFC 5769 request as one hex line.
    s["hex-rfc5769-2.1-request"] = (v["rfc5769Request"].hex() + "\n").encode()
    return s


def channel_data(channel, payload, stream=False):
    frame = struct.pack("!HH", channel, len(payload)) + payload
    return frame + b"\0" * (-len(frame) % 4 if stream else 0)


def turn_framing_seeds(stun):
    """Byte 0: reassembler capacity, byte 1: chunk size - 1, byte 2 bit 0: writableSpace/commit;
    the rest is the stream (and the whole input is also one datagram)."""
    stream = (stun["turn-allocate-success"] + channel_data(0x4000, b"hello", True)
              + channel_data(0x4FFF, b"", True) + stun["turn-send-indication"]
              + channel_data(0x4001, bytes(range(200)), True))
    return {
        "stream-mixed-max-capacity": B(0xFF, 6, 0) + stream,
        "stream-small-capacity-direct": B(0x05, 254, 1) + stream,
        "stream-split-header": B(0x10, 0, 0) + stream[:30],
        "channeldata-datagram": channel_data(0x4000, b"hello"),
        "channeldata-datagram-padded": channel_data(0x4FFF, b"abc", True),
        "channeldata-reserved-channel": channel_data(0x5000, b"x"),
    }


def turn_client_seeds():
    """Scenarios for fuzz/targets/TURNClientFuzz.swift: config byte, then opcodes."""
    text = lambda t: B(len(t)) + t
    challenge = B(2, 0, u16(0x0007), 2) + text(b"example.org") + text(b"nonce-1")
    challenge_sha = B(2, 0, u16(0x0047), 2) + text(b"example.org") + text(b"nonce-1") + B(0, 1)
    allocated = B(2, 0, u16(0x0038), 0, 2, u32(0xCB007101), u16(40000), u32(600))
    ok = B(2, 0, u16(0))
    relay = (B(7, 0) + ok + B(8, 0) + ok + B(3, 0, u16(5)) + b"hello" + bytes(range(12)) + B(1)
             + B(4, 0, u16(4)) + b"rtp!" + B(9, 0, u16(3)) + b"abc" + B(5, u16(30000)) + B(6) + B(10) + ok)
    tlvs = (attr(0x0016, xor_v4([198, 51, 100, 1], 49152)) + attr(0x0020, xor_v4([203, 0, 113, 1], 40000))
            + attr(0x000D, struct.pack("!I", 600)))
    return {
        "allocate-permission-channel-data": B(0) + challenge + allocated + relay,
        "allocate-sha256": B(0) + challenge_sha + allocated + B(5, u16(65535), 6, 6),
        "allocate-tcp-no-keepalive": B(0x09) + challenge + allocated + relay,
        "allocate-ipv6": B(0x02) + challenge + B(2, 0, u16(0x0038), 1, 2, u32(0xCB007101), u16(40000), u32(600)) + relay,
        "raw-tlv-success": B(0) + challenge + B(1, 0, 2, u16(len(tlvs))) + tlvs + relay,
        "redirect-300": B(0) + B(2, 0, u16(0x0081), 0, 1) + challenge + allocated,
        "stale-nonce-438": B(0) + challenge + B(2, 0, u16(0x0005), 7) + text(b"nonce-2") + allocated + B(11),
        "timeouts-only": B(0) + B(6) * 12,
    }


def ice_agent_seeds(stun):
    """Scenarios for fuzz/targets/AgentFuzz.swift: config byte, then opcodes."""
    tid = lambda n: u32(n) + u64(n)
    respond_ok = B(2, 0, 0)
    check_controlled = B(1, 0x04, 0, 0) + tid(1) + u32(1845501695) + u64(7)
    check_nominate = B(1, 0x0A, 0, 0) + tid(2) + u32(1845501695) + u64(0xFFFFFFFFFFFFFFFF)
    connect = B(5) + respond_ok + check_controlled + B(5) + respond_ok + B(4, u16(5000), 5) + respond_ok + B(4, u16(30000))
    return {
        "controlling-connects": B(0x40) + connect,
        "controlled-nominated": B(0x41) + check_nominate + B(5) + respond_ok + B(4, u16(5000)) + respond_ok,
        "two-components": B(0x90) + B(6, 2, 0, u32(2130706430)) + connect,
        "gathering-from-stun-server": B(0x08) + B(2, 0, 0x02, 200, u32(0xCB000709), u16(51000)) + B(6, 0, 0, u32(2130706431)) + connect,
        "role-conflict-487": B(0x40) + B(1, 0x02, 0, 0) + tid(3) + u32(5) + u64(0xFFFFFFFFFFFFFFFF) + B(5) + B(2, 0, 1, 0) + B(5),
        "lite-agent": B(0x43) + check_nominate + B(4, u16(10000)),
        "unauthenticated-check": B(0x40) + B(1, 0x41, 0, 0) + tid(4) + u32(5) + B(1, 0x01, 0, 0) + tid(5) + u32(5),
        "raw-ice-check": B(0x40, 0, 0, 0) + u16(len(stun["ice-check-request"])) + stun["ice-check-request"],
        "relayed-base": B(0x40, 9, 1) + B(1, 0x04, 0, 2) + tid(7) + u32(5) + u64(7) + B(5) + respond_ok + B(5) + respond_ok,
        "restart-and-consent-loss": B(0x40) + connect + B(8, 1) + B(5) * 4 + B(4, u16(65535)) * 2,
        "prflx-from-unknown-source": B(0x40) + B(1, 0x04, 201) + u64(0x20010DB800000000) + u64(0x99) + u16(7000) + B(0) + tid(6) + u32(5) + u64(1) + B(5, 2, 0, 0),
    }


def connection_seeds():
    """Scenarios for fuzz/targets/ConnectionFuzz.swift: config byte, then opcodes. Relay 0 is
    the UDP one when both are configured; requests are picked by index from the latest."""
    text = lambda t: B(len(t)) + t
    ctid = lambda n: u32(n) + u64(n)
    challenge = lambda pick=0: B(2, pick, u16(0x0007), 2) + text(b"example.org") + text(b"nonce-1")
    # XOR-RELAYED-ADDRESS (choice 0: the UDP server's, 1: the TCP server's), XOR-MAPPED-ADDRESS, LIFETIME.
    allocated = lambda relayed=0, pick=0: B(2, pick, u16(0x0038), relayed, 5, u32(0xCB000709), u16(51000), u32(600))
    ok = lambda pick=0: B(2, pick, u16(0))
    deadline = B(15)
    # The peer answers the agent's latest request: on a host base (5), or through relay R in a
    # Data indication (3) or ChannelData (4).
    host_answer = B(5, 0, 2, 0, 0)
    relay_answer = lambda r=0: B(3, r, 1, 2, 0, 0) + ctid(0x51)
    channel_answer = lambda r=0: B(4, r, u16(0), 2, 0, 0)
    # The peer's own check: controlling with USE-CANDIDATE (flags 0x0A) or controlled (0x04).
    host_check = lambda flags, n: B(5, 0, 1, flags, 0) + ctid(n) + u32(1845501695) + u64(7)
    relay_check = lambda flags, n, r=0: B(3, r, 1, 1, flags, 0) + ctid(n) + u32(1845501695) + u64(7) + ctid(0x60 + n)
    media_host = B(5, 0, 0, 0, u16(12)) + b"\x80\x60" + bytes(10)
    media_channel = lambda r=0: B(4, r, u16(0), 0, 0, u16(12)) + b"\x80\x60" + bytes(10)
    send_media = B(10, u16(12)) + b"\x80\x60" + bytes(10)
    udp_alloc = challenge() + allocated() + ok()
    open_tcp = lambda r: B(12, 0, r)
    s = {
        # UDP relay, one remote: the host pair connects; media both ways on it.
        "udp-relay-host-pair": B(0x42) + udp_alloc + deadline + host_answer + deadline * 3 + host_answer
                               + host_check(0x04, 1) + media_host + send_media + B(14, u16(5000)),
        # Only the relayed checks are answered: a relayed selected pair, its channel, media over it.
        "udp-relay-relayed-pair": B(0x42) + udp_alloc + deadline * 2 + relay_answer() + deadline * 4 + relay_answer()
                                  + ok() + relay_check(0x04, 2) + media_channel() + send_media + channel_answer()
                                  + B(14, u16(20000)),
        # Controlled: the peer nominates through the relay.
        "controlled-nominated-through-relay": B(0x43) + udp_alloc + relay_check(0x0A, 3) + deadline + relay_answer()
                                              + deadline + ok() + send_media + media_channel(),
        # TCP relay: the owner opens the stream, the Allocate goes out on it.
        "tcp-relay-stream": B(0x44) + open_tcp(0) + challenge() + allocated(1) + ok() + deadline * 2 + relay_answer()
                            + deadline * 4 + relay_answer() + ok() + send_media + media_channel() + B(12, 1, 0)
                            + B(14, u16(2500)) + open_tcp(0),
        # Both relays (UDP is relay 0, TCP relay 1), a STUN server, two remotes.
        "both-relays-stun-server": B(0xA0) + B(5, 0, 2, 0, 0x02, 200, u32(0xCB000709), u16(51000)) + udp_alloc
                                   + open_tcp(1) + challenge() + allocated(1) + ok() + deadline * 4 + host_answer
                                   + relay_answer(1) + deadline * 2 + relay_answer(0),
        # A 437 from the UDP server: a fresh socket, the retry leaves from it.
        "allocation-mismatch-rebind": B(0x42) + challenge() + B(2, 0, u16(0x0001), 5) + B(11, 0, 0) + B(14, u16(2100))
                                      + challenge() + allocated() + ok() + deadline * 2,
        # A 300 over TCP: the stream is closed and one to the alternate server asked for.
        "tcp-redirect-300": B(0x44) + open_tcp(0) + B(2, 0, u16(0x0081), 0, 1) + open_tcp(0) + challenge()
                            + allocated(1) + ok(),
        # End-of-candidates, then a restart: a new generation of candidates and its own end.
        "restart-new-generation": B(0x42) + udp_alloc + deadline + host_answer + B(8) + B(9, 1) + B(7, 0, 0, u32(2130706431))
                                  + deadline * 3 + host_answer,
        # Close: the relays deallocate (Refresh with LIFETIME 0), the stream is closed after.
        "close-deallocates": B(0x40) + udp_alloc + open_tcp(1) + challenge() + allocated(1) + B(13, 0x5A) + ok() + ok(1),
        # Relay-only, no consent: the allocation expires without refreshes being answered.
        "relay-only-expiry": B(0x5A) + udp_alloc + deadline + relay_answer() + B(14, u16(65535)) * 12,
        # Raw TLVs as the Allocate success, then ChannelData on an unbound channel and raw frames.
        "raw-tlv-allocate": B(0x42) + challenge() + B(1, 0, 2, u16(32)) + struct.pack("!HH", 0x0016, 8)
                            + struct.pack("!BBHI", 0, 1, 49152 ^ 0x2112, 0xC6336401 ^ 0x2112A442)
                            + struct.pack("!HHI", 0x000D, 4, 600) + struct.pack("!HH", 0x0020, 8)
                            + struct.pack("!BBHI", 0, 1, 51000 ^ 0x2112, 0xCB000709 ^ 0x2112A442)
                            + B(4, 0, u16(0x0123), 0, 0, u16(3)) + b"abc" + B(0, 0, 0, u16(4)) + b"\x40\x00\x00\x00",
    }
    # Found by the fuzzer: a second 300 over TCP ends the relay; the client that had followed
    # it kept sending on the stream being closed (ConnectionRedirectTests).
    s["stream-redirect-twice"] = bytes.fromhex(
        "440c00000200008100010c000002000007020b6578616d706c652e6f0dff00387267440c0000020000810001"
        "ffffffffffffff8c0a0b6578616d706c652e878d080001e1126c652e6f0dff00387267440c00000200008100"
        "01ffffffffffe721c043000d0004000002580063652d30020020")
    # And a relayed check answered with another mapped address: a peer-reflexive pair with a
    # relayed base, whose media went direct from the relayed address (ConnectionRelayedBaseTests).
    s["relayed-peer-reflexive-media"] = bytes.fromhex(
        "440c000002000007020f0000000b6578616d706c652e6f7267076e6f6e63652d31020000380105cb000709c738"
        "00000258020000000f0f030001020b0200c0000000000051000000007f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
        "7f7f7f757f7f00510f0f0f0f030001020000000000510000000000000051020000000a000c8060000000001000"
        "00000000040000000c8060000000000000000000000000000c016c652ec40c0000")
    return s


def write_folder(name, items, limit):
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    for key, data in sorted(items.items()):
        assert len(data) <= limit, key
        with open(os.path.join(out, key), "wb") as f:
            f.write(data)
        print(f"{len(data):5d}  fuzz/corpus/{name}/{key}")


def main():
    stun = seeds()
    write_folder("stun", stun, 1500)
    write_folder("turn-framing", turn_framing_seeds(stun), 4096)
    write_folder("turn-client", turn_client_seeds(), 4096)
    write_folder("ice-agent", ice_agent_seeds(stun), 4096)
    write_folder("connection", connection_seeds(), 4096)


if __name__ == "__main__":
    main()
