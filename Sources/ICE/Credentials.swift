import Common
import STUN

/// ICE ufrag and password (RFC 8445 §5.3, RFC 8839 §5.4), with the prepared
/// MESSAGE-INTEGRITY key for the password.
public struct Credentials {
    public let ufrag: [UInt8]
    public let password: [UInt8]
    let key: IntegrityKey

    public init(ufrag: [UInt8], password: [UInt8]) {
        self.ufrag = ufrag
        self.password = password
        key = password.withUnsafeBytes { IntegrityKey(key: $0) }
    }

    public init(ufrag: String, password: String) {
        self.init(ufrag: Array(ufrag.utf8), password: Array(password.utf8))
    }

    /// ice-char = ALPHA / DIGIT / "+" / "/": 6 bits per character.
    static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// RFC 8445 §5.3: at least 24 bits of randomness in the ufrag and 128 in the password;
    /// 8 characters (48 bits) and 24 characters (144 bits).
    public static func random<R: RandomSource>(_ random: inout R) -> Credentials {
        Credentials(ufrag: randomText(8, &random), password: randomText(24, &random))
    }

    static func randomText<R: RandomSource>(_ n: Int, _ random: inout R) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var bits: UInt64 = 0, available = 0
        for _ in 0..<n {
            if available < 6 {
                bits = random.next()
                available = 64
            }
            out.append(alphabet.utf8Start[Int(bits & 63)])
            bits >>= 6
            available -= 6
        }
        return out
    }

    public var ufragText: String { String(decoding: ufrag, as: UTF8.self) }
    public var passwordText: String { String(decoding: password, as: UTF8.self) }
}
