import Common
import Foundation
import Testing
@testable import DTLS

@Suite struct DTLSIdentityTests {
    @Test func pemRoundTripKeepsTheFingerprint() throws {
        var random = SeededRandom(seed: 3)
        let identity = try DTLSIdentity.generate(random: &random)
        let pem = identity.pem()
        let text = String(decoding: pem, as: UTF8.self)
        #expect(text.hasPrefix("-----BEGIN EC PRIVATE KEY-----\n"))
        #expect(text.contains("-----BEGIN CERTIFICATE-----\n"))
        #expect(text.hasSuffix("-----END CERTIFICATE-----\n"))
        let loaded = try pem.withUnsafeBytes { try DTLSIdentity(pem: $0) }
        #expect(loaded.fingerprint == identity.fingerprint)
        #expect(loaded.certificateDER == identity.certificateDER)
        #expect(loaded.pem() == pem)
        // The fingerprint is the SHA-256 of the DER certificate (RFC 8122 §5).
        let der = identity.certificateDER
        #expect(der.withUnsafeBytes { Fingerprint(certificate: $0) } == identity.fingerprint)
    }

    @Test func aLoadedIdentityHandshakes() throws {
        var random = SeededRandom(seed: 4)
        let original = try DTLSIdentity.generate(random: &random)
        let loaded = try original.pem().withUnsafeBytes { try DTLSIdentity(pem: $0) }
        let peer = try DTLSIdentity.generate(random: &random)
        let client = try DTLSEndpoint(role: .client, identity: loaded, remoteFingerprint: peer.fingerprint, random: &random)
        let server = try DTLSEndpoint(role: .server, identity: peer, remoteFingerprint: original.fingerprint, random: &random)
        client.start(now: .zero)
        for _ in 0..<10 {
            while let d = client.pollTransmit() { d.withUnsafeBytes { server.handle(datagram: $0, now: .zero) } }
            while let d = server.pollTransmit() { d.withUnsafeBytes { client.handle(datagram: $0, now: .zero) } }
        }
        #expect(client.state == .connected && server.state == .connected)
    }

    @Test func twoGeneratedIdentitiesDiffer() throws {
        var random = SeededRandom(seed: 7)
        let a = try DTLSIdentity.generate(random: &random)
        let b = try DTLSIdentity.generate(random: &random)
        #expect(a.fingerprint != b.fingerprint)
        #expect(a.pem() != b.pem())
    }

    @Test func sameSeedSameIdentity() throws {
        // All randomness comes from the injected source (no /dev/urandom inside).
        var r1 = SeededRandom(seed: 8)
        var r2 = SeededRandom(seed: 8)
        let a = try DTLSIdentity.generate(random: &r1)
        let b = try DTLSIdentity.generate(random: &r2)
        #expect(a.fingerprint == b.fingerprint)
    }

    @Test func certificateIsSelfSignedP256WithTheNamedSubject() throws {
        var random = SeededRandom(seed: 9)
        let identity = try DTLSIdentity.generate(random: &random)
        let der = identity.certificateDER
        // ecdsa-with-SHA256 (1.2.840.10045.4.3.2), prime256v1 (1.2.840.10045.3.1.7), CN=ice-agent.
        let sha256WithECDSA: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        let prime256v1: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        #expect(Self.contains(der, sha256WithECDSA))
        #expect(Self.contains(der, prime256v1))
        #expect(Self.contains(der, Array("ice-agent".utf8)))
        #expect(der.count < 600)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return true }
        return false
    }

    @Test func hostileIdentityFilesAreTypedErrors() throws {
        var random = SeededRandom(seed: 10)
        let identity = try DTLSIdentity.generate(random: &random)
        let other = try DTLSIdentity.generate(random: &random)
        let pem = identity.pem()
        let text = String(decoding: pem, as: UTF8.self)
        let keyEnd = text.range(of: "-----END EC PRIVATE KEY-----\n")!.upperBound
        let keyPart = String(text[..<keyEnd])
        let certPart = String(text[keyEnd...])
        let otherCert = String(String(decoding: other.pem(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .drop { !$0.hasPrefix("-----BEGIN CERTIFICATE") }.joined(separator: "\n"))

        func load(_ s: String) throws -> DTLSIdentity {
            let bytes = Array(s.utf8)
            return try bytes.withUnsafeBytes { try DTLSIdentity(pem: $0) }
        }
        #expect(throws: DTLSError.self) { try load("") }
        #expect(throws: DTLSError.self) { try load(certPart) }
        do {
            _ = try load(keyPart)
            Issue.record("a key without a certificate loaded")
        } catch let e as DTLSError {
            if case .invalidCertificate = e {} else { Issue.record("a key without a certificate: \(e)") }
        }
        #expect(throws: DTLSError.keyCertificateMismatch) { try load(keyPart + otherCert) }
        #expect(throws: DTLSError.identityTooLarge) { try load(String(repeating: "A", count: 9000)) }
        // Truncation anywhere, and a flipped byte inside the base64, never load.
        for cut in stride(from: 0, to: pem.count - 30, by: 37) {
            let truncated = String(decoding: pem[0..<cut], as: UTF8.self)
            #expect(throws: DTLSError.self) { try load(truncated) }
        }
        // A flipped byte inside the certificate's base64 either fails or is another certificate.
        var flipped = pem
        flipped[keyPart.utf8.count + 100] ^= 0x01
        if let changed = try? load(String(decoding: flipped, as: UTF8.self)) {
            #expect(changed.fingerprint != identity.fingerprint)
        }
        // The order of the two blocks does not matter.
        let swapped = try load(certPart + keyPart)
        #expect(swapped.fingerprint == identity.fingerprint)
    }
}
