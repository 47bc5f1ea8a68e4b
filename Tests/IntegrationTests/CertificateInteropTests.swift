import Common
import DTLS
import Foundation
import Testing

/// Our DTLS certificate read by independent X.509 implementations: OpenSSL and Python
/// `cryptography` (what aiortc parses a peer's certificate with). System lane: both are
/// third-party tools.
@Suite struct CertificateInteropTests {
    static func generated(seed: UInt64) throws -> DTLSIdentity {
        var random = SeededRandom(seed: seed)
        return try DTLSIdentity.generate(random: &random)
    }

    @Test func opensslReadsItAndChecksTheSelfSignature() throws {
        let openssl = try Self.tool("openssl", install: "apt-get install -y openssl")
        let der = try Self.generated(seed: 26).certificateDER
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let derPath = dir.appendingPathComponent("cert.der").path
        let pemPath = dir.appendingPathComponent("cert.pem").path
        try Data(der).write(to: URL(fileURLWithPath: derPath))

        let parsed = try Self.run(openssl, ["asn1parse", "-inform", "DER", "-in", derPath])
        #expect(parsed.status == 0, "\(parsed.err)")
        // One algorithm line each, and no NULL anywhere in the certificate.
        #expect(parsed.out.components(separatedBy: ":ecdsa-with-SHA256").count - 1 == 2, "\(parsed.out)")
        #expect(!parsed.out.contains("NULL"), "\(parsed.out)")

        let text = try Self.run(openssl, ["x509", "-inform", "DER", "-in", derPath, "-noout", "-text"])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(text.out.contains("Subject: CN = ice-agent"))
        #expect(text.out.contains("NIST CURVE: P-256"))

        let converted = try Self.run(openssl, ["x509", "-inform", "DER", "-in", derPath, "-out", pemPath])
        #expect(converted.status == 0, "\(converted.err)")
        // -check_ss_sig: the self-signed certificate's own signature is verified too.
        let verified = try Self.run(openssl, ["verify", "-check_ss_sig", "-CAfile", pemPath, pemPath])
        #expect(verified.status == 0 && verified.out.contains(": OK"), "\(verified.out)\(verified.err)")
    }

    @Test func pythonCryptographyLoadsItAndVerifiesTheSignature() throws {
        // What aiortc parses the peer's DTLS certificate with.
        let python = "/usr/bin/python3"
        let install = "scripts/install-deps (aiortc from PyPI brings cryptography for /usr/bin/python3)"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is not installed: run `apt-get install -y python3` and \(install)")
        }
        let probe = try Self.run(python, ["-c", "import cryptography"])
        guard probe.status == 0 else { throw TestFailure("python3 lacks cryptography: run \(install)") }
        let script = """
            import sys
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            c = x509.load_der_x509_certificate(bytes.fromhex(sys.argv[1]))
            c.public_key().verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
            print(c.signature_algorithm_oid.dotted_string, c.subject.rfc4514_string(), c.public_key().curve.name)
            """
        for seed: UInt64 in [27, 28] {
            let hex = try Self.generated(seed: seed).certificateDER.map { String(format: "%02x", $0) }.joined()
            let r = try Self.run(python, ["-c", script, hex])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out == "1.2.840.10045.4.3.2 CN=ice-agent secp256r1\n", "\(r.out)\(r.err)")
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func tool(_ name: String, install: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("\(name) is not installed: run `\(install)`")
    }

    static func run(_ path: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
