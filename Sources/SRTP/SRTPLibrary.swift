import CSRTP

/// libsrtp's process-wide state: its crypto kernel is set up once, by the first session.
enum SRTPLibrary {
    /// srtp_init's status, run once per process on first use (a lazily initialized global is
    /// initialized exactly once even when sessions are created on several threads; libsrtp's
    /// own initialization is not safe to race).
    private static let initStatus: UInt32 = srtp_init().rawValue

    static func initialize() throws(SRTPError) {
        try check(srtp_err_status_t(rawValue: initStatus))
    }

    /// libsrtp's status as this module's error (RFC 3711 §3.3: an authentication or replay
    /// failure drops the packet; every other status is named by its number).
    static func check(_ status: srtp_err_status_t) throws(SRTPError) {
        switch status {
        case srtp_err_status_ok: return
        // cant_check: an SRTCP E flag other than the policy's; the flag is authenticated
        // (RFC 3711 §3.4), so such a packet cannot be the peer's.
        case srtp_err_status_auth_fail, srtp_err_status_cant_check: throw .authenticationFailed
        case srtp_err_status_replay_fail, srtp_err_status_replay_old, srtp_err_status_pkt_idx_old: throw .replayed
        case srtp_err_status_bad_param, srtp_err_status_parse_err: throw .malformed
        default: throw .library(Int32(truncatingIfNeeded: status.rawValue))
        }
    }
}
