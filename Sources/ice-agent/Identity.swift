import CLinux
import Common
import Daemon
import DTLS
import Runtime
import SDP

/// Where the DTLS identity lives unless `--identity` says: systemd's StateDirectory= when
/// the service has one, else the user's state directory (XDG), else /var/lib.
func defaultIdentityPath() -> String {
    if let state = environment("STATE_DIRECTORY"), let first = state.split(separator: ":").first, first.hasPrefix("/") {
        return String(first) + "/identity.pem"
    }
    if let xdg = environment("XDG_STATE_HOME"), xdg.hasPrefix("/") { return xdg + "/ice-agent/identity.pem" }
    if let home = environment("HOME"), home.hasPrefix("/") { return home + "/.local/state/ice-agent/identity.pem" }
    return "/var/lib/ice-agent/identity.pem"
}

func environment(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    let s = String(cString: p)
    return s.isEmpty ? nil : s
}

extension CallCommand {
    /// The certificate DTLS-SRTP presents, read once at start-up (generated and stored the
    /// first time), so key generation never sits on a call's path; nil for clear media.
    func loadIdentity() throws(CallSetupError) -> DTLSIdentity? {
        guard media.security == .dtlsSrtp else { return nil }
        let path = identityPath ?? defaultIdentityPath()
        var random = SystemRandom()
        do throws(IdentityFileError) {
            let identity = try loadOrCreateIdentity(path: path, random: &random)
            Log.info("identity: \(path), a=fingerprint:\(identity.fingerprint.sdpValue)")
            return identity
        } catch {
            throw .identity(error.description)
        }
    }
}
