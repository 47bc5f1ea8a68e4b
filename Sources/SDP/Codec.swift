import Common

/// The media kinds this agent carries over RTP.
public enum MediaKind: String, Equatable, Sendable {
    case audio, video
}

/// H.264 profile-level-id (RFC 6184 §8.1): profile_idc, the constraint flags byte
/// (profile-iop) and level_idc, written as six hex digits ("42e01f").
public struct H264ProfileLevelID: Equatable, Sendable {
    public var profileIDC: UInt8
    public var constraints: UInt8
    public var levelIDC: UInt8

    public init(profileIDC: UInt8, constraints: UInt8, levelIDC: UInt8) {
        self.profileIDC = profileIDC
        self.constraints = constraints
        self.levelIDC = levelIDC
    }

    /// Constrained Baseline, level 3.1: what every WebRTC browser decodes.
    public static let constrainedBaseline31 = H264ProfileLevelID(profileIDC: 0x42, constraints: 0xE0, levelIDC: 0x1F)
    /// RFC 6184 §8.1: the default when profile-level-id is absent (Baseline, level 1.0).
    public static let rfcDefault = H264ProfileLevelID(profileIDC: 0x42, constraints: 0x00, levelIDC: 0x0A)

    public init?(hex: Substring) {
        let b = Array(hex.utf8)
        guard b.count == 6, b.allSatisfy(isHexByte) else { return nil }
        func byte(_ i: Int) -> UInt8 { hexValue(b[i]) << 4 | hexValue(b[i + 1]) }
        self.init(profileIDC: byte(0), constraints: byte(2), levelIDC: byte(4))
    }

    public var hex: String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        var s = ""
        for v in [profileIDC, constraints, levelIDC] {
            s.append(digits[Int(v >> 4)])
            s.append(digits[Int(v & 0x0F)])
        }
        return s
    }

    /// RFC 6184 §8.2.2: an answer keeps the offer's profile (profile_idc and constraint flags);
    /// only the level may differ.
    public func sameProfile(as other: H264ProfileLevelID) -> Bool {
        profileIDC == other.profileIDC && constraints == other.constraints
    }
}

/// A codec this agent's media pipeline can carry (RTP payload formats).
public enum Codec: Equatable, Sendable {
    /// H.264 in packetization-mode 1 (RFC 6184 §6.3: non-interleaved, FU-A and STAP-A), the
    /// mode every WebRTC browser implements.
    case h264(H264ProfileLevelID)
    /// RFC 7741.
    case vp8
    /// RFC 7587: always "opus/48000/2" in SDP, whatever the channels actually sent.
    case opus
    /// RFC 3551 §4.5.14: static payload type 0, 8000 Hz.
    case pcmu

    public static let h264Default = Codec.h264(.constrainedBaseline31)

    /// The codec a configured rtpmap and fmtp (e.g. "96 H264/90000" and "96
    /// packetization-mode=1;profile-level-id=42e01f") name; nil for one this agent cannot
    /// negotiate (another encoding, clock or channel count, or H264 not in packetization mode 1).
    /// An H264 fmtp without profile-level-id means Constrained Baseline 3.1, what browsers decode.
    public init?(rtpmap: RTPMap, parameters: FormatParameters?) {
        let candidates: [Codec] = [.h264Default, .vp8, .opus, .pcmu]
        guard let codec = candidates.first(where: { c in
            let e = c.rtpmap(payloadType: rtpmap.payloadType)
            return e.encoding.asciiLowercased() == rtpmap.encoding.asciiLowercased() && e.clockRate == rtpmap.clockRate
                && (rtpmap.channels == e.channels || (e.channels == nil && rtpmap.channels == 1))
        }) else { return nil }
        guard case .h264 = codec else {
            self = codec
            return
        }
        guard parameters?.parameter("packetization-mode") == "1" else { return nil }
        guard let text = parameters?.parameter("profile-level-id") else {
            self = .h264Default
            return
        }
        guard let profile = H264ProfileLevelID(hex: text) else { return nil }
        self = .h264(profile)
    }

    public var kind: MediaKind {
        switch self {
        case .h264, .vp8: return .video
        case .opus, .pcmu: return .audio
        }
    }

    /// The rtpmap this codec is written with, at payload type `pt`.
    public func rtpmap(payloadType pt: UInt8) -> RTPMap {
        switch self {
        case .h264: return RTPMap(payloadType: pt, encoding: "H264", clockRate: 90000)
        case .vp8: return RTPMap(payloadType: pt, encoding: "VP8", clockRate: 90000)
        case .opus: return RTPMap(payloadType: pt, encoding: "opus", clockRate: 48000, channels: 2)
        case .pcmu: return RTPMap(payloadType: pt, encoding: "PCMU", clockRate: 8000)
        }
    }

    /// The fmtp parameters this codec is offered with (nil: none).
    public var fmtpParameters: String? {
        switch self {
        case .h264(let p): return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=\(p.hex)"
        case .opus: return "minptime=10;useinbandfec=1"
        case .vp8, .pcmu: return nil
        }
    }

    /// RFC 3551 §6: PCMU has static payload type 0 and needs no rtpmap.
    public var staticPayloadType: UInt8? { self == .pcmu ? 0 : nil }

    /// The first payload type of `m`, in the section's order of preference, that carries this
    /// codec in a form this agent can send and receive; nil if none. With `sending`, an H.264
    /// offer must accept our level (the offerer decodes what we send, RFC 6184 §8.2.2).
    public func payloadType(in m: MediaDescription, sending: Bool = false) -> UInt8? {
        guard m.kind == kind.rawValue else { return nil }
        for f in m.formats {
            guard let pt = payloadTypeNumber(f[...]), accepts(payloadType: pt, in: m, sending: sending) else { continue }
            return pt
        }
        return nil
    }

    func accepts(payloadType pt: UInt8, in m: MediaDescription, sending: Bool) -> Bool {
        let map = m.rtpmaps.lazy.compactMap { RTPMap($0[...]) }.first { $0.payloadType == pt }
        guard let map else {
            // RFC 3551 §6: a static payload type may appear without an rtpmap.
            return pt == staticPayloadType
        }
        let expected = rtpmap(payloadType: pt)
        guard map.encoding.asciiLowercased() == expected.encoding.asciiLowercased(), map.clockRate == expected.clockRate else { return false }
        switch self {
        case .opus:
            // RFC 7587 §7: "opus/48000/2", always two channels in SDP.
            return map.channels == 2
        case .pcmu:
            return map.channels == nil || map.channels == 1
        case .vp8:
            return true
        case .h264(let local):
            let fmtp = m.fmtps.lazy.compactMap { FormatParameters($0[...]) }.first { $0.format == "\(pt)" }
            guard fmtp?.parameter("packetization-mode") == "1" else { return false }
            guard let offered = Self.h264Profile(fmtp), offered.sameProfile(as: local) else { return false }
            return !sending || offered.levelIDC >= local.levelIDC
        }
    }
}

extension Codec {
    /// The profile-level-id of an H.264 fmtp: the RFC 6184 §8.1 default when absent, nil when
    /// present and malformed.
    static func h264Profile(_ fmtp: FormatParameters?) -> H264ProfileLevelID? {
        guard let text = fmtp?.parameter("profile-level-id") else { return .rfcDefault }
        return H264ProfileLevelID(hex: text)
    }
}

func hexValue(_ b: UInt8) -> UInt8 {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    default: return b - 0x61 + 10
    }
}
