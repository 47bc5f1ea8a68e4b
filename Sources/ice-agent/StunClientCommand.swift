import Common
import Runtime
import STUN

/// `ice-agent stun client HOST:PORT`: one Binding transaction with RFC 8489 §6.2.1
/// retransmissions; prints the mapped address on stdout.
struct StunClientCommand {
    var server = TransportAddress(.v4Any, 0)
    var serverText: String? = nil
    var bind: TransportAddress?
    var rto = Retransmission.defaultRTO
    var retries = Retransmission.defaultRc
    /// Print the request and the accepted response as hex on stderr (feed to `stun decode`).
    var printHex = false

    static let spec = CommandSpec<StunClientCommand>(
        name: "stun client", synopsis: "HOST:PORT [--bind ADDR:PORT] [--rto MS] [--retries N] [--print-hex]",
        about: "Sends a Binding request (RFC 8489 retransmissions: RTO doubling, then 16 x RTO after the last send)\n"
            + "and prints the mapped address. Exit status 1 on timeout or an error response.",
        options: [
            Option("--bind", .value("ADDR:PORT"), "the local address (default: an ephemeral port)") { c, v throws(UsageError) in
                c.bind = try parseAddress(v)
            },
            Option("--rto", .value("MS"), "the first retransmission timeout (1..60000, default 500)") { c, v throws(UsageError) in
                c.rto = .milliseconds(try number(v, in: 1...60_000, "--rto takes 1..60000 ms"))
            },
            Option("--retries", .value("N"), "how many requests to send (1..20, default 7)") { c, v throws(UsageError) in
                c.retries = try number(v, in: 1...20, "--retries takes 1..20")
            },
            Option("--print-hex", .flag, "show both messages on stderr as hex (input for stun decode)") { c, _ throws(UsageError) in
                c.printHex = true
            },
        ],
        positional: Positional(name: "HOST:PORT", help: "the STUN server", configKey: nil) { c, v throws(UsageError) in
            guard c.serverText == nil else { throw UsageError("unexpected argument: " + v) }
            c.serverText = v
        })

    init(arguments: [String]) throws(UsageError) {
        try StunClientCommand.spec.parse(arguments, into: &self)
        guard let serverText else { throw UsageError("stun client needs HOST:PORT") }
        guard let s = resolve(hostAndPort: serverText) else { throw UsageError("cannot resolve " + serverText) }
        server = s
    }

    func run() -> Int32 {
        guard let socket = clientSocket(bind: bind, towards: server), let loop = openEventLoop() else { return 1 }
        var random = SystemRandom()
        let transaction = StunTransaction(command: self, socket: socket, id: TransactionID(random: &random), loop: loop)
        return transaction.run()
    }

    /// The Binding request: SOFTWARE and FINGERPRINT.
    func bindingRequest(_ id: TransactionID) -> [UInt8] {
        var request = [UInt8](repeating: 0, count: 128)
        let length = request.withUnsafeMutableBytes { buf -> Int in
            var b = try! MessageBuilder(into: buf, type: .bindingRequest, transactionID: id)
            try! b.append(.software, text: "ice-agent 0.1.0")
            try! b.appendFingerprint()
            return b.count
        }
        return Array(request[0..<length])
    }

    /// What a message with our transaction ID means: nil (keep waiting) unless it is a Binding
    /// response with a FINGERPRINT that is not wrong; then the exit status, the mapped address
    /// printed or the error said.
    func exitStatus(answering m: Message) -> Int32? {
        guard m.method == .binding, m.checkFingerprint() != .bad else { return nil }
        if m.messageClass == .errorResponse {
            let code = (try? m.errorCode())?.map { "\($0.code) " + String(decoding: $0.reason, as: UTF8.self) } ?? "unknown"
            printError("ice-agent: error response: " + code)
            return 1
        }
        guard m.messageClass == .successResponse else { return nil }
        if printHex { printError("response: " + hexString(m.bytes)) }
        guard let mapped = try? m.mappedAddress() else {
            printError("ice-agent: success response without a usable mapped address")
            return 1
        }
        print(mapped.description)
        if let other = try? m.address(.otherAddress) { printError("other-address: \(other)") }
        if let origin = try? m.address(.responseOrigin) { printError("response-origin: \(origin)") }
        return 0
    }
}

/// One Binding transaction on the event loop: the request and its retransmissions on the
/// `Retransmission` timer, the answer from the socket.
final class StunTransaction: TimerClient, ReadableHandler {
    let command: StunClientCommand
    let socket: UDPSocket
    let id: TransactionID
    let loop: EventLoop
    let request: [UInt8]
    var timer: Retransmission
    var status: Int32? = nil
    var buffer = [UInt8](repeating: 0, count: 2048)

    init(command: StunClientCommand, socket: UDPSocket, id: TransactionID, loop: EventLoop) {
        self.command = command
        self.socket = socket
        self.id = id
        self.loop = loop
        request = command.bindingRequest(id)
        timer = Retransmission(now: monotonicNow(), rto: command.rto, maxSends: command.retries)
    }

    func run() -> Int32 {
        if command.printHex { printError("request: " + request.withUnsafeBytes { hexString($0) }) }
        do throws(EventLoop.Failure) { try loop.register(fd: socket.descriptor, self) } catch {
            printError("ice-agent: cannot watch the socket")
            return 1
        }
        loop.addTimerClient(self)
        handleTimeout(now: monotonicNow())
        if status == nil {
            do throws(EventLoop.Failure) { try loop.run() } catch {
                printError("ice-agent: event loop failed")
                return 1
            }
        }
        loop.unregister(fd: socket.descriptor)
        loop.removeTimerClient(self)
        return status ?? 1
    }

    func finish(_ code: Int32) {
        status = code
        loop.stop()
    }

    var nextDeadline: Instant? { status == nil ? timer.deadline : nil }

    func handleTimeout(now: Instant) {
        while status == nil {
            switch timer.poll(now: now) {
            case .timedOut:
                printError("ice-agent: no response from \(command.server) after \(timer.sends) requests")
                finish(1)
            case .send:
                let failure = request.withUnsafeBytes { bytes -> SocketError? in
                    do throws(SocketError) {
                        try socket.send(bytes, to: command.server)
                        return nil
                    } catch { return error }
                }
                // ICMP errors (e.g. port unreachable) surface here; retransmit as for loss.
                if let failure { printError("ice-agent: " + failure.description) }
            case .wait:
                return
            }
        }
    }

    func readable(now: Instant) {
        buffer.withUnsafeMutableBytes { buf in
            while status == nil, case .some(.some(let (n, _))) = try? socket.tryReceive(into: buf) {
                guard let m = try? Message(parsing: UnsafeRawBufferPointer(rebasing: buf[0..<n])), m.transactionID == id,
                      let code = command.exitStatus(answering: m)
                else { continue }
                finish(code)
            }
        }
    }
}

/// The UDP socket a one-shot client command talks from: `bind`, or an ephemeral port of the
/// server's family. Nil (after saying why) when it cannot be opened.
func clientSocket(bind: TransportAddress?, towards server: TransportAddress) -> UDPSocket? {
    let local = bind ?? TransportAddress(server.ip.isIPv4 ? .v4Any : .v6(0, 0), 0)
    do throws(SocketError) {
        return try UDPSocket(bind: local)
    } catch {
        printError("ice-agent: " + error.description)
        return nil
    }
}
