import Common
import RTNetlink
import Testing

/// rtnetlink notifications built byte by byte as rtnetlink(7) lays them out (host order,
/// little-endian), and malformed ones, which must give a typed error and never a crash.
@Suite struct RTNetlinkParserTests {
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var a = le16(UInt16(4 + value.count)) + le16(type) + value
        while a.count % 4 != 0 { a.append(0) }
        return a
    }

    /// nlmsghdr (len, type, flags, seq, pid) and the body, padded to 4 bytes.
    static func message(_ type: UInt16, _ body: [UInt8]) -> [UInt8] {
        var m = le32(UInt32(16 + body.count)) + le16(type) + le16(0) + le32(0) + le32(0) + body
        while m.count % 4 != 0 { m.append(0) }
        return m
    }

    /// ifaddrmsg: family, prefix length, flags, scope, interface index; then attributes.
    static func address(_ type: UInt16, family: UInt8, flags: UInt8 = 0, index: UInt32, _ attributes: [UInt8]) -> [UInt8] {
        message(type, [family, 24, flags, 0] + le32(index) + attributes)
    }

    /// ifinfomsg: family, pad, device type, index, flags, change mask.
    static func link(_ type: UInt16, index: UInt32, flags: UInt32) -> [UInt8] {
        message(type, [0, 0] + le16(1) + le32(index) + le32(flags) + le32(0xFFFF_FFFF))
    }

    static func changes(_ datagram: [UInt8]) throws(RTNetlinkError) -> [InterfaceChange] {
        var out: [InterfaceChange] = []
        let r: Result<Void, RTNetlinkError> = datagram.withUnsafeBytes { raw in
            do throws(RTNetlinkError) {
                try RTNetlinkParser.parse(raw) { out.append($0) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try r.get()
        return out
    }

    let v4 = IPAddress.v4(0xC000_0205)  // 192.0.2.5
    let v4Peer = IPAddress.v4(0xC000_0209)
    let v6: IPAddress = .v6(0x2001_0DB8_0000_0000, 0x0000_0000_0000_0005)

    @Test func ipv4AddressAddedTakesTheLocalAddressOverThePeer() throws {
        // Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours.
        let m = Self.address(20, family: 2, index: 3,
                             Self.attribute(1, [192, 0, 2, 9]) + Self.attribute(2, [192, 0, 2, 5]) + Self.attribute(3, Array("eth0\0".utf8)))
        #expect(try Self.changes(m) == [.addressAdded(interface: 3, address: v4, usable: true)])
        let plain = Self.address(20, family: 2, index: 3, Self.attribute(1, [192, 0, 2, 9]))
        #expect(try Self.changes(plain) == [.addressAdded(interface: 3, address: v4Peer, usable: true)])
    }

    @Test func ipv6TentativeAddressIsNotUsableYet() throws {
        let bytes: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]
        // The tentative flag in ifa_flags, then in IFA_FLAGS (which wins: it has all 32 bits).
        let inHeader = Self.address(20, family: 10, flags: 0x40, index: 2, Self.attribute(1, bytes))
        #expect(try Self.changes(inHeader) == [.addressAdded(interface: 2, address: v6, usable: false)])
        let inAttribute = Self.address(20, family: 10, index: 2, Self.attribute(1, bytes) + Self.attribute(8, Self.le32(0x40)))
        #expect(try Self.changes(inAttribute) == [.addressAdded(interface: 2, address: v6, usable: false)])
        let done = Self.address(20, family: 10, flags: 0x40, index: 2, Self.attribute(1, bytes) + Self.attribute(8, Self.le32(0x80)))
        #expect(try Self.changes(done) == [.addressAdded(interface: 2, address: v6, usable: true)])
    }

    @Test func removalsLinksAndOverrunInOneDatagram() throws {
        let datagram = Self.address(21, family: 2, index: 3, Self.attribute(2, [192, 0, 2, 5]))
            + Self.link(16, index: 3, flags: 0x1 | 0x10000)
            + Self.link(16, index: 4, flags: 0x1)  // up, no carrier
            + Self.link(17, index: 5, flags: 0)
            + Self.message(4, [])  // NLMSG_OVERRUN
            + Self.message(3, Self.le32(0))  // NLMSG_DONE: skipped
        #expect(try Self.changes(datagram) == [
            .addressRemoved(interface: 3, address: v4),
            .linkChanged(interface: 3, up: true),
            .linkChanged(interface: 4, up: false),
            .linkRemoved(interface: 5),
            .lost,
        ])
    }

    @Test func otherFamiliesAndAddresslessMessagesAreSkipped() throws {
        #expect(try Self.changes(Self.address(20, family: 17, index: 1, Self.attribute(1, [1, 2, 3, 4]))).isEmpty)
        #expect(try Self.changes(Self.address(20, family: 2, index: 1, Self.attribute(3, Array("lo\0".utf8)))).isEmpty)
        #expect(try Self.changes([]).isEmpty)
    }

    @Test func malformedDatagramsGetTypedErrors() throws {
        let good = Self.address(20, family: 2, index: 3, Self.attribute(2, [192, 0, 2, 5]))
        var short = good
        short[0] = 8  // nlmsg_len below the header
        #expect(throws: RTNetlinkError.badLength) { try Self.changes(short) }
        var long = good
        long[0] = UInt8(good.count + 4)  // past the datagram
        #expect(throws: RTNetlinkError.truncated) { try Self.changes(long) }
        #expect(throws: RTNetlinkError.truncated) { try Self.changes(good + [1, 2, 3]) }
        // An ifaddrmsg cut short, an attribute shorter than its header, an address of the
        // wrong size for the family.
        #expect(throws: RTNetlinkError.truncated) { try Self.changes(Self.message(20, [2, 24, 0])) }
        #expect(throws: RTNetlinkError.badLength) {
            try Self.changes(Self.message(20, [2, 24, 0, 0] + Self.le32(1) + Self.le16(2) + Self.le16(1)))
        }
        #expect(throws: RTNetlinkError.badLength) {
            try Self.changes(Self.address(20, family: 2, index: 1, Self.attribute(2, [192, 0, 2, 5, 6, 7, 8, 9])))
        }
        #expect(throws: RTNetlinkError.truncated) { try Self.changes(Self.message(16, [0, 0, 1, 0])) }
        // A flood of messages in one datagram is bounded.
        let noops = (0...RTNetlinkParser.maxMessages).flatMap { _ in Self.message(1, []) }
        #expect(throws: RTNetlinkError.tooManyMessages) { try Self.changes(noops) }
    }

    static func bytes(hex: String) -> [UInt8] { Array(hex.utf8).withUnsafeBytes { decodeHex($0) } ?? [] }

    /// Notifications a Linux 6.1 kernel sent (captured in a network namespace, also seeds of
    /// the fuzz target): `ip addr add 192.0.2.5/24`, `ip addr add 2001:db8::5/64` (tentative
    /// while DAD runs), `ip addr del 192.0.2.5/24`.
    @Test func realKernelNotifications() throws {
        let added4 = Self.bytes(hex: "4c000000140000009dd4116b443e0000021880000300000008000100c000020508000200c00002050700030076610000080008008000000014000600fffffffffffffffff62d3d00f62d3d00")
        let added6 = Self.bytes(hex: "480000001400000000000000000000000a40c000030000001400010020010db800000000000000000000000514000600fffffffffffffffff72d3d00f72d3d0008000800c0000000")
        let removed4 = Self.bytes(hex: "4c000000150000009dd4116b473e0000021880000300000008000100c000020508000200c00002050700030076610000080008008000000014000600fffffffffffffffff62d3d00f62d3d00")
        #expect(try Self.changes(added4) == [.addressAdded(interface: 3, address: v4, usable: true)])
        #expect(try Self.changes(added6) == [.addressAdded(interface: 3, address: v6, usable: false)])
        #expect(try Self.changes(removed4) == [.addressRemoved(interface: 3, address: v4)])
    }
}
