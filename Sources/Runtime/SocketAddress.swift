import CLinux
import Common

/// Conversion between `TransportAddress` and the kernel's sockaddr_in / sockaddr_in6.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    init() {}

    init(_ address: TransportAddress) {
        withUnsafeMutableBytes(of: &storage) { raw in
            switch address.ip {
            case .v4(let a):
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(ice_AF_INET)
                sin.sin_port = address.port.bigEndian
                sin.sin_addr.s_addr = a.bigEndian
                raw.storeBytes(of: sin, as: sockaddr_in.self)
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
            case .v6(let hi, let lo):
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(ice_AF_INET6)
                sin6.sin6_port = address.port.bigEndian
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { b in
                    b.storeBigEndian(hi, at: 0)
                    b.storeBigEndian(lo, at: 8)
                }
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
        }
    }

    var transportAddress: TransportAddress? {
        withUnsafeBytes(of: storage) { raw -> TransportAddress? in
            let family = Int32(raw.load(fromByteOffset: 0, as: sa_family_t.self))
            if family == ice_AF_INET {
                let sin = raw.load(as: sockaddr_in.self)
                return TransportAddress(.v4(UInt32(bigEndian: sin.sin_addr.s_addr)), UInt16(bigEndian: sin.sin_port))
            } else if family == ice_AF_INET6 {
                let sin6 = raw.load(as: sockaddr_in6.self)
                return withUnsafeBytes(of: sin6.sin6_addr) { b in
                    TransportAddress(.v6(b.loadBigEndianUInt64(at: 0), b.loadBigEndianUInt64(at: 8)),
                                     UInt16(bigEndian: sin6.sin6_port))
                }
            }
            return nil
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> T) -> T {
        var len = length == 0 ? socklen_t(MemoryLayout<sockaddr_storage>.size) : length
        let result = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &len) }
        }
        length = len
        return result
    }
}
