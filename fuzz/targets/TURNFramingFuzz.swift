// libFuzzer target over TURN's framing: ChannelData (RFC 8656 §12.4) as a datagram, and the
// TCP/TLS stream reassembler (RFC 8656 §12.5, RFC 8489 §6.2.2) fed by a hostile server.
// Built and run by `fuzz/run turn-framing`; see fuzz/README.md.
//
// Input: byte 0 picks the reassembler's capacity (64 bytes to 64 KiB + 7), byte 1 the chunk
// size the stream arrives in (1..256), bit 0 of byte 2 whether chunks go through
// `append` or `writableSpace`/`commit`; the rest is both the datagram and the stream.
//
// Invariants (a violation traps):
//   - a parsed ChannelData has a valid channel and a payload of exactly Length bytes inside
//     the datagram; writing it back (UDP and stream) parses to the same channel and payload,
//     padded to 4 on streams;
//   - every frame lies inside the reassembler's buffer, is no larger than its capacity, and is
//     what its first byte says: STUN (20 + Length) or ChannelData (4 + Length, valid channel);
//   - buffered bytes never exceed the capacity; `append` takes nothing when it throws.
// Nothing is printed.

import Common
import STUN
import TURN

nonisolated(unsafe) let writeBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 + 0xFFFF + 3, alignment: 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    datagram(input)
    var r = FuzzReader(input)
    let capChoice = r.u8()
    let capacity = capChoice == 0xFF ? 4 + 0xFFFF + 3 : 64 + Int(capChoice) * 16
    let chunk = Int(r.u8()) + 1
    let direct = r.bool()
    stream(r.rest(), capacity: capacity, chunk: chunk, direct: direct)
    return 0
}

func datagram(_ input: UnsafeRawBufferPointer) {
    sink(ChannelData.looksLikeChannelData(input))
    let cd: ChannelData
    do throws(ChannelDataError) {
        cd = try ChannelData(parsing: input)
    } catch {
        sink(error.name)
        return
    }
    require(ChannelData.isValidChannel(cd.channel), "parsed an invalid channel number")
    require(cd.payload.count == Int(input.loadBigEndianUInt16(at: 2)), "payload is not Length bytes")
    if let p = cd.payload.baseAddress, let b = input.baseAddress {
        require(p >= b + 4 && p + cd.payload.count <= b + input.count, "payload outside the datagram")
    }
    for transport in [TURNTransport.udp, .tcp] {
        let n: Int
        do throws(ChannelDataError) {
            n = try ChannelData.write(channel: cd.channel, payload: cd.payload, transport: transport, into: writeBuffer)
        } catch {
            fail("writing a parsed ChannelData back failed")
        }
        require(n == ChannelData.frameSize(payloadLength: cd.payload.count, transport: transport), "written size")
        require(!transport.isStream || n % 4 == 0, "a stream frame not padded to 4")
        do throws(ChannelDataError) {
            let again = try ChannelData(parsing: UnsafeRawBufferPointer(rebasing: writeBuffer[0..<n]))
            require(again.channel == cd.channel && again.payload.elementsEqual(cd.payload), "ChannelData round trip changed it")
        } catch {
            fail("a written ChannelData does not parse")
        }
    }
}

func stream(_ bytes: UnsafeRawBufferPointer, capacity: Int, chunk: Int, direct: Bool) {
    let r = StreamReassembler(capacity: capacity)
    var offset = 0
    while offset < bytes.count {
        var n = min(chunk, bytes.count - offset)
        let before = r.buffered
        if direct {
            let space = r.writableSpace()
            n = min(n, space.count)
            if n == 0 { return }  // full and no frame came out: the caller drops the connection
            space.baseAddress!.copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            r.commit(n)
        } else {
            do throws(StreamFramingError) {
                try r.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            } catch {
                require(error == .bufferFull, "append threw something else than bufferFull")
                require(r.buffered == before, "a refused append took bytes")
                return
            }
        }
        offset += n
        require(r.buffered <= r.capacity, "more buffered than the capacity")
        while true {
            let frame: StreamFrame?
            do throws(StreamFramingError) {
                frame = try r.nextFrame()
            } catch {
                sink(error.name)
                return  // fatal for the connection
            }
            guard let frame else { break }
            check(frame, capacity: capacity)
        }
    }
}

func check(_ frame: StreamFrame, capacity: Int) {
    let b = frame.bytes
    require(b.count <= capacity, "a frame larger than the capacity")
    switch frame {
    case .stun(let m):
        require(m.count >= Message.headerSize && m[0] < 0x40, "a STUN frame without a STUN header")
        require(m.count == Message.headerSize + Int(m.loadBigEndianUInt16(at: 2)), "a STUN frame of the wrong size")
        do throws(ParseError) {
            sink(try Message(parsing: m).attributes.count)
        } catch {
            sink(error.name)
        }
    case .channelData(let c):
        do throws(ChannelDataError) {
            let cd = try ChannelData(parsing: c)
            require(c.count == 4 + cd.payload.count, "a ChannelData frame of the wrong size")
        } catch {
            // 0x40-0x4F with a reserved channel number (0x4000-0x4FFF are all valid): cannot be.
            fail("a ChannelData frame does not parse")
        }
    }
}
