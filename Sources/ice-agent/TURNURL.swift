import Common
import Daemon
import Runtime
import TURN

/// `--turn` values of call/answer: RFC 7065 TURN URIs (parsed by `TURNServerURI`).
///
///     turn:HOST[:PORT][?transport=udp|tcp]    UDP (default) or TCP, port 3478 by default
///     turns:HOST[:PORT][?transport=tcp]       TLS over TCP, port 5349 by default
///
/// HOST is a name, an IPv4 address or an IPv6 address in brackets. A bare HOST[:PORT] is
/// taken as `turn:` (UDP), as earlier builds did. `turns:...?transport=udp` (DTLS) is refused.
enum TURNURL {
    static func parse(_ text: String) throws(UsageError) -> TURNServerURI {
        let parsed: Result<TURNServerURI, TURNURIError> = {
            do throws(TURNURIError) {
                return .success(try TURNServerURI.parse(text, defaultScheme: .turn))
            } catch {
                return .failure(error)
            }
        }()
        switch parsed {
        case .failure(let e):
            throw UsageError("bad TURN URI " + text + ": " + e.description)
        case .success(let uri):
            guard uri.scheme == .turn || uri.scheme == .turns else {
                throw UsageError("--turn takes turn: or turns: URIs (" + text + " is a STUN URI: use --stun)")
            }
            return uri
        }
    }

    /// Checks every `--turn` URI; when one is `turns:`, loads the trusted CAs once (`--turn-ca`,
    /// by default the system bundle) so a missing or unreadable file is a configuration error
    /// at start-up, not a failure at the first call.
    static func validate(_ urls: [String], caFile: String?) throws(UsageError) -> TLSClientConfiguration? {
        var needsTLS = false
        for u in urls {
            if try parse(u).transport == .tls { needsTLS = true }
        }
        guard needsTLS else { return nil }
        let path = caFile ?? TLSClientConfiguration.systemCAFile
        let loaded: Result<TLSClientConfiguration, TLSError> = {
            do throws(TLSError) {
                return .success(try TLSClientConfiguration(caFile: path))
            } catch {
                return .failure(error)
            }
        }()
        switch loaded {
        case .success(let c): return c
        case .failure(let e): throw UsageError("--turn-ca: " + e.description)
        }
    }
}

extension CallCommand {
    /// The --turn servers, resolved, with the --turn-user credential: one relayed candidate
    /// per server and transport (a repeated URI is used once).
    /// With `skipUnresolved` (the doorbell, resolving again for every call), a server whose
    /// name does not resolve now is logged and left out rather than failing the whole call.
    func turnConfigs(skipUnresolved: Bool = false) throws(CallSetupError) -> [TURNServerConfig] {
        var out: [TURNServerConfig] = []
        for u in turnURLs {
            guard let uri = try? TURNURL.parse(u), let server = resolve(hostAndPort: uri.hostAndPort) else {
                if skipUnresolved {
                    Log.warning("TURN server \(u) does not resolve: this call goes without it")
                    continue
                }
                throw .session(.turnServer(u))
            }
            if out.contains(where: { $0.server == server && $0.transport == uri.transport }) { continue }
            out.append(TURNServerConfig(server: server, username: turnUser?.0 ?? "", password: turnUser?.1 ?? "",
                                        transport: uri.transport, serverName: uri.host, tls: turnTLS,
                                        label: uri.description))
        }
        return out
    }
}
