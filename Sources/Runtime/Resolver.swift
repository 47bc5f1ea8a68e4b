import CLinux
import Common

/// Resolves "HOST:PORT" (an IP literal, "[v6]:port" or a name via getaddrinfo).
public func resolve(hostAndPort text: String) -> TransportAddress? {
    if let literal = TransportAddress(text) { return literal }
    guard let colon = text.lastIndex(of: ":") else { return nil }
    let host = String(text[..<colon])
    let portText = String(text[text.index(after: colon)...])
    guard let port = UInt16(portText), !host.isEmpty else { return nil }
    var hints = addrinfo()
    hints.ai_socktype = ice_SOCK_DGRAM
    var result: UnsafeMutablePointer<addrinfo>? = nil
    guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
    defer { freeaddrinfo(result) }
    var node: UnsafeMutablePointer<addrinfo>? = first
    while let n = node {
        if let sa = n.pointee.ai_addr {
            var storage = SocketAddress()
            withUnsafeMutableBytes(of: &storage.storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: Int(n.pointee.ai_addrlen)))
            }
            if var a = storage.transportAddress {
                a.port = port
                return a
            }
        }
        node = n.pointee.ai_next
    }
    return nil
}
