import Common
import STUN
import Testing
import TURN

@Suite struct ChannelDataFramingTests {
    func build(_ channel: UInt16, _ payload: [UInt8], _ transport: TURNTransport, capacity: Int = 64) throws(ChannelDataError) -> [UInt8] {
        var out = [UInt8](repeating: 0xEE, count: capacity)
        let r: Result<Int, ChannelDataError> = out.withUnsafeMutableBytes { buf in
            payload.withUnsafeBytes { p in
                do throws(ChannelDataError) {
                    return .success(try ChannelData.write(channel: channel, payload: p, transport: transport, into: buf))
                } catch { return .failure(error) }
            }
        }
        return Array(out[0..<(try r.get())])
    }

    func parse(_ bytes: [UInt8]) throws(ChannelDataError) -> (UInt16, [UInt8]) {
        let r: Result<(UInt16, [UInt8]), ChannelDataError> = bytes.withUnsafeBytes { raw in
            do throws(ChannelDataError) {
                let cd = try ChannelData(parsing: raw)
                return .success((cd.channel, Array(cd.payload)))
            } catch { return .failure(error) }
        }
        return try r.get()
    }

    @Test func roundTripOverUDPAndStreams() throws {
        #expect(try build(0x4001, [1, 2, 3], .udp) == [0x40, 0x01, 0, 3, 1, 2, 3])
        #expect(try build(0x4001, [1, 2, 3], .tcp) == [0x40, 0x01, 0, 3, 1, 2, 3, 0])
        #expect(try build(0x4FFF, [1, 2, 3, 4], .tls) == [0x4F, 0xFF, 0, 4, 1, 2, 3, 4])
        #expect(try build(0x4000, [], .tcp) == [0x40, 0, 0, 0])
        #expect(ChannelData.frameSize(payloadLength: 5, transport: .udp) == 9)
        #expect(ChannelData.frameSize(payloadLength: 5, transport: .tcp) == 12)
        let (n, p) = try parse([0x40, 0x01, 0, 3, 1, 2, 3, 0])  // padding ignored
        #expect(n == 0x4001 && p == [1, 2, 3])
    }

    @Test func malformedChannelData() {
        #expect(throws: ChannelDataError.truncatedHeader) { try parse([0x40, 0x00, 0x00]) }
        #expect(throws: ChannelDataError.invalidChannelNumber) { try parse([0x50, 0x00, 0x00, 0x00]) }
        #expect(throws: ChannelDataError.invalidChannelNumber) { try parse([0x3F, 0xFF, 0x00, 0x00]) }
        #expect(throws: ChannelDataError.lengthBeyondData) { try parse([0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4]) }
        #expect(throws: ChannelDataError.invalidChannelNumber) { try build(0x5000, [1], .udp) }
        #expect(throws: ChannelDataError.bufferTooSmall) { try build(0x4000, [1, 2, 3], .tcp, capacity: 7) }
    }
}

@Suite struct StreamReassemblerTests {
    /// A STUN Binding request of `extra` attribute bytes, plus ChannelData frames: the stream.
    func stunMessage() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            var b = try! MessageBuilder(into: raw, type: .bindingRequest, transactionID: TransactionID(high: 1, low: 2))
            try! b.append(.software, text: "abc")  // 3 bytes + 1 padding inside the message
            try! b.appendFingerprint()
            return b.count
        }
        return Array(buffer[0..<n])
    }

    func frames(_ r: StreamReassembler) throws(StreamFramingError) -> [(Bool, [UInt8])] {
        var out: [(Bool, [UInt8])] = []
        while let f = try r.nextFrame() {
            if case .stun = f { out.append((true, Array(f.bytes))) } else { out.append((false, Array(f.bytes))) }
        }
        return out
    }

    @Test func splitsStunAndPaddedChannelData() throws {
        let stun = stunMessage()
        let cd1: [UInt8] = [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0]  // padded to 12
        let cd2: [UInt8] = [0x40, 0x01, 0x00, 0x04, 6, 7, 8, 9]
        let stream = cd1 + stun + cd2
        let r = StreamReassembler(capacity: 256)
        #expect(feed(r, stream) == nil)
        let got = try frames(r)
        #expect(got.count == 3)
        #expect(got[0].0 == false && got[0].1 == [0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5])  // padding stripped
        #expect(got[1].0 == true && got[1].1 == stun)
        #expect(got[2].0 == false && got[2].1 == cd2)
        #expect(r.buffered == 0)
    }

    @Test func partialFramesByteByByte() throws {
        let stun = stunMessage()
        let cd: [UInt8] = [0x40, 0x02, 0x00, 0x01, 0xAB, 0, 0, 0]
        let stream = stun + cd + stun
        let r = StreamReassembler(capacity: 64)
        var got: [(Bool, [UInt8])] = []
        for byte in stream {
            #expect(feed(r, [byte]) == nil)
            got += try frames(r)
        }
        #expect(got.count == 3)
        #expect(got[0].1 == stun && got[1].1 == [0x40, 0x02, 0x00, 0x01, 0xAB] && got[2].1 == stun)
        // A frame is not complete until its padding has arrived.
        #expect(feed(r, [0x40, 0x02, 0x00, 0x01, 0xAB, 0, 0]) == nil)
        #expect(try r.nextFrame() == nil)
        #expect(feed(r, [0]) == nil)
        #expect(try r.nextFrame() != nil)
    }

    @Test func receiveDirectlyIntoTheBuffer() throws {
        let r = StreamReassembler(capacity: 32)
        let cd: [UInt8] = [0x40, 0x00, 0x00, 0x02, 7, 7, 0, 0]
        let space = r.writableSpace()
        space.copyBytes(from: cd)
        r.commit(cd.count)
        #expect(try r.nextFrame()?.bytes.count == 6)
    }

    @Test func boundedAndFatalErrors() throws {
        let r = StreamReassembler(capacity: 32)
        // More than fits at once.
        #expect(feed(r, [UInt8](repeating: 0x40, count: 33)) == .bufferFull)
        // A STUN header announcing more than the buffer holds.
        #expect(feed(r, [0x00, 0x01, 0x01, 0x00]) == nil)
        #expect(throws: StreamFramingError.frameTooLarge) { try r.nextFrame() }

        let big = StreamReassembler(capacity: 16)
        #expect(feed(big, [0x40, 0x00, 0x00, 0x20]) == nil)
        #expect(throws: StreamFramingError.frameTooLarge) { try big.nextFrame() }

        let bad = StreamReassembler(capacity: 32)
        #expect(feed(bad, [0x80, 0x00, 0x00, 0x00]) == nil)
        #expect(throws: StreamFramingError.invalidFrame) { try bad.nextFrame() }
        let reserved = StreamReassembler(capacity: 32)
        #expect(feed(reserved, [0x50, 0x00, 0x00, 0x00]) == nil)
        #expect(throws: StreamFramingError.invalidFrame) { try reserved.nextFrame() }
    }

    @Test func compactsAfterConsumingFrames() throws {
        // Capacity for two small frames; consuming one makes room for the next append.
        let r = StreamReassembler(capacity: 16)
        let cd: [UInt8] = [0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]
        #expect(feed(r, (cd + cd)) == nil)
        #expect(try r.nextFrame() != nil)
        #expect(feed(r, cd) == nil)  // fits after compaction
        #expect(try frames(r).count == 2)
    }

    @Test func streamFramesDriveTheClient() throws {
        // TCP end to end: the server's byte stream, split by the reassembler, feeds the client.
        let (c, s) = allocated { $0.transport = .tcp }
        try! c.bindChannel(peer: peerA, now: at(1))
        let bind = drain(c)[0]
        let stream = s.success(bind) + [0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0] + s.dataIndication(from: peerA, [4])
        let r = StreamReassembler(capacity: 512)
        var data: [[UInt8]] = []
        for chunk in stride(from: 0, to: stream.count, by: 5) {
            #expect(feed(r, Array(stream[chunk..<min(chunk + 5, stream.count)])) == nil)
            while let f = try r.nextFrame() {
                if case .data(_, let bytes) = c.handle(packet: f.bytes, from: serverAddress, now: at(2)) { data.append(Array(bytes)) }
            }
        }
        #expect(data == [[1, 2, 3], [4]])
        #expect(c.channel(for: peerA) == 0x4000)
    }
}
