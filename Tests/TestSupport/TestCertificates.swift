import Foundation

/// A throwaway PKI made with openssl for the TLS tests: a test CA, a server certificate it
/// signed (for localhost, 127.0.0.1 and ::1), a certificate for another name from the same CA,
/// and an unrelated CA that trusts none of them.
public final class TestCertificates {
    public let directory: URL
    public var caFile: String { path("ca.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server.key") }
    /// Signed by the test CA, but for elsewhere.example only.
    public var otherNameCertificate: String { path("other-name.pem") }
    public var otherCAFile: String { path("other-ca.pem") }

    public init() throws {
        let openssl = try requireTool("openssl", install: "apt-get install -y openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ice-test-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func ssl(_ args: [String]) throws {
            let r = try run(openssl, args)
            guard r.status == 0 else { throw TestFailure("openssl \(args.joined(separator: " ")): \(r.stderr)") }
        }
        func ext(_ name: String, _ san: String) throws -> String {
            let p = path(name)
            try ("subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                + "extendedKeyUsage=serverAuth\n").write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try ssl(["req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out", caFile, "-days", "2", "-subj", "/CN=ice-agent test CA"])
        try ssl(["req", "-x509"] + ec + ["-keyout", path("other-ca.key"), "-out", otherCAFile, "-days", "2", "-subj", "/CN=unrelated CA"])
        try ssl(["req"] + ec + ["-keyout", serverKey, "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try ssl(["x509", "-req", "-in", path("server.csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                 "-out", serverCertificate, "-days", "2", "-extfile", try ext("server.ext", "DNS:localhost,IP:127.0.0.1,IP:::1")])
        try ssl(["x509", "-req", "-in", path("server.csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                 "-out", otherNameCertificate, "-days", "2", "-extfile", try ext("other.ext", "DNS:elsewhere.example")])
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
