import Common
import Connectivity
import DTLS
import ICE
import RTP
import Runtime
import SDP
import SRTP
import TURN

extension Session {
    /// One JSON object: what `ice-agent status` shows.
    public var statusJSON: String {
        var j = JSONWriter()
        j.beginObject()
        j.member("name", name)
        j.member("role", agent.role.name.description)
        j.member("state", agent.state.name.description)
        j.member("ice_restarts", restarts)
        if let p = agent.selectedPair() {
            j.beginObject("selected")
            j.member("local", p.local.address.description)
            j.member("remote", p.remote.address.description)
            j.member("types", p.local.type.sdpName.description + "/" + p.remote.type.sdpName.description)
            j.member("nominated", p.nominated)
            j.endObject()
        }
        j.beginObject("media")
        j.member("sent_packets", toPeer.packets)
        j.member("sent_bytes", toPeer.bytes)
        j.member("received_packets", fromPeer.packets)
        j.member("received_bytes", fromPeer.bytes)
        j.member("sequence_gaps", fromPeer.sequenceGaps)
        j.member("invalid", fromPeer.invalid)
        j.member("dropped_unknown_source", droppedUnknownSource)
        j.member("dropped_no_pair", droppedNoPair)
        j.endObject()
        writeSecurity(&j)
        let c = agent.counters
        j.beginObject("stun")
        j.member("checks_sent", c.checksSent)
        j.member("responses_sent", c.responsesSent)
        j.member("malformed", c.malformed)
        j.member("unauthenticated", c.unauthenticated)
        j.member("role_conflicts", c.roleConflicts)
        j.endObject()
        // Datagrams longer than the receive buffer, dropped unread (RFC 8489 §6.1 keeps STUN
        // below the path MTU; media this large is not ours).
        var truncated = 0
        for s in sockets { truncated += s.truncatedDatagrams }
        j.beginObject("sockets")
        j.member("truncated_datagrams", truncated)
        j.endObject()
        // TURN allocations: which server, over what, and whether a relayed address is held now.
        j.beginArray("relays")
        for r in connection.relays {
            j.beginObject()
            j.member("server", r.label)
            j.member("state", r.client.state.name.description)
            if let a = r.client.relayedAddress, r.client.state == .allocated { j.member("relayed", a.description) }
            j.member("failures", r.failures)
            j.endObject()
        }
        j.endArray()
        writeNATType(&j)
        j.endObject()
        return j.text
    }

    /// What protects the media: "dtls-srtp" with its handshake and SRTP counters, or "none"
    /// (clear RTP, only when configured so).
    func writeSecurity(_ j: inout JSONWriter) {
        j.beginObject("security")
        if let s = connection.mediaSecurity {
            j.member("mode", "dtls-srtp")
            j.member("dtls", Self.stateName(s.dtls))
            if let p = s.profile { j.member("profile", p.name.description) }
            if let f = identity?.fingerprint { j.member("fingerprint", f.sdpValue) }
            j.member("protected", s.srtp.protected)
            j.member("unprotected", s.srtp.unprotected)
            j.member("authentication_failures", s.srtp.authenticationFailures)
            j.member("replays", s.srtp.replays)
            j.member("rejected", s.rejected)
            j.member("dropped_before_keys", s.heldBeforeKeys)
            j.member("dropped_dtls", s.droppedDTLS)
        } else {
            j.member("mode", media.security == .none ? "none" : "dtls-srtp")
            if media.security == .dtlsSrtp { j.member("dtls", "waiting for the peer's description") }
        }
        j.endObject()
    }

    static func stateName(_ s: DTLSState) -> String {
        switch s {
        case .new: return "new"
        case .handshaking: return "handshaking"
        case .connected: return "connected"
        case .failed(let e): return "failed: " + e.description
        case .closed: return "closed"
        }
    }
}
