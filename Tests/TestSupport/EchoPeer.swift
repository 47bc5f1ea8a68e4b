import Foundation

/// A UDP echo peer (python3) on `host`, the far side of a TURN relay.
public func startEchoPeer(host: String = "127.0.0.1") throws -> (Background, UInt16) {
    let python = try requireTool("python3", install: "apt-get install -y python3")
    let port = freeUDPPort()
    let family = host.contains(":") ? "AF_INET6" : "AF_INET"
    let script = """
        import socket, sys
        s = socket.socket(socket.\(family), socket.SOCK_DGRAM)
        s.bind((sys.argv[1], int(sys.argv[2])))
        print("ready", flush=True)
        while True:
            data, addr = s.recvfrom(65535)
            s.sendto(data, addr)
        """
    let peer = try Background(python, ["-c", script, host, "\(port)"])
    guard waitUntil({ peer.output.contains("ready") }) else {
        peer.stop()
        throw TestFailure("echo peer did not start: \(peer.output)")
    }
    return (peer, port)
}
