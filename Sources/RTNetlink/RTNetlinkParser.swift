import Common

/// Reads the rtnetlink notifications of the groups RTMGRP_LINK, RTMGRP_IPV4_IFADDR and
/// RTMGRP_IPV6_IFADDR (rtnetlink(7), netlink(7)) from one datagram, over the borrowed bytes:
/// no allocation, no I/O. Netlink is in the host's byte order; every target of the agent is
/// little-endian.
public enum RTNetlinkParser {
    /// Messages per datagram at most (a burst from one change is a handful).
    public static let maxMessages = 256

    // netlink(7) and rtnetlink(7) constants.
    static let headerSize = 16
    static let noop: UInt16 = 1, error: UInt16 = 2, done: UInt16 = 3, overrun: UInt16 = 4
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, newAddr: UInt16 = 20, delAddr: UInt16 = 21
    static let ifaddrmsgSize = 8, ifinfomsgSize = 16
    static let ifaAddress: UInt16 = 1, ifaLocal: UInt16 = 2, ifaFlags: UInt16 = 8
    static let ifaFDadFailed: UInt32 = 0x08, ifaFTentative: UInt32 = 0x40
    static let iffUp: UInt32 = 0x1, iffLowerUp: UInt32 = 0x10000
    static let afInet: UInt8 = 2, afInet6: UInt8 = 10

    /// Calls `each` for every change in `datagram`, in order; messages of other types are
    /// skipped. Throws on the first malformed message (the changes before it were reported).
    public static func parse(_ datagram: UnsafeRawBufferPointer, _ each: (InterfaceChange) -> Void) throws(RTNetlinkError) {
        var offset = 0
        var messages = 0
        while datagram.count - offset >= headerSize {
            messages += 1
            guard messages <= maxMessages else { throw .tooManyMessages }
            let length = Int(load32(datagram, offset))
            guard length >= headerSize else { throw .badLength }
            guard length <= datagram.count - offset else { throw .truncated }
            let type = load16(datagram, offset + 4)
            let body = UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<(offset + length)])
            switch type {
            case newAddr, delAddr: try address(body, removed: type == delAddr, each)
            case newLink, delLink: try link(body, removed: type == delLink, each)
            case overrun: each(.lost)
            default: break  // NOOP, DONE, ERROR (acknowledgements), other families
            }
            // NLMSG_ALIGN: messages start on 4-byte boundaries.
            offset += (length + 3) & ~3
        }
        if offset < datagram.count { throw .truncated }
    }

    /// ifaddrmsg and its attributes: IFA_LOCAL is the local address on point-to-point links,
    /// where IFA_ADDRESS names the peer; elsewhere they are equal or only IFA_ADDRESS is there.
    static func address(_ body: UnsafeRawBufferPointer, removed: Bool, _ each: (InterfaceChange) -> Void) throws(RTNetlinkError) {
        guard body.count >= ifaddrmsgSize else { throw .truncated }
        let family = body[0]
        let addressLength: Int
        switch family {
        case afInet: addressLength = 4
        case afInet6: addressLength = 16
        default: return
        }
        var flags = UInt32(body[2])
        let index = load32(body, 4)
        var local: IPAddress? = nil, peer: IPAddress? = nil
        try attributes(UnsafeRawBufferPointer(rebasing: body[ifaddrmsgSize...])) { (type, value) throws(RTNetlinkError) in
            switch type {
            case ifaLocal, ifaAddress:
                guard value.count == addressLength, let ip = IPAddress(bytes: value) else { throw .badLength }
                if type == ifaLocal { local = ip } else { peer = ip }
            case ifaFlags:
                guard value.count >= 4 else { throw .badLength }
                flags = load32(value, 0)
            default: break
            }
        }
        guard let ip = local ?? peer else { return }
        if removed {
            each(.addressRemoved(interface: index, address: ip))
        } else {
            each(.addressAdded(interface: index, address: ip, usable: flags & (ifaFTentative | ifaFDadFailed) == 0))
        }
    }

    static func link(_ body: UnsafeRawBufferPointer, removed: Bool, _ each: (InterfaceChange) -> Void) throws(RTNetlinkError) {
        guard body.count >= ifinfomsgSize else { throw .truncated }
        let index = load32(body, 4)
        if removed {
            each(.linkRemoved(interface: index))
            return
        }
        let flags = load32(body, 8)
        each(.linkChanged(interface: index, up: flags & iffUp != 0 && flags & iffLowerUp != 0))
    }

    /// The rtattr list (rtnetlink(7)): length (header included), type, value, 4-byte aligned.
    static func attributes(_ bytes: UnsafeRawBufferPointer,
                           _ each: (UInt16, UnsafeRawBufferPointer) throws(RTNetlinkError) -> Void) throws(RTNetlinkError) {
        var offset = 0
        while bytes.count - offset >= 4 {
            let length = Int(load16(bytes, offset))
            guard length >= 4, length <= bytes.count - offset else { throw .badLength }
            // NLA_F_NESTED and NLA_F_NET_BYTEORDER sit in the top bits of the type.
            try each(load16(bytes, offset + 2) & 0x3FFF, UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
    }

    static func load16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    static func load32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
}
