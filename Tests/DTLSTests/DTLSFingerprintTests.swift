import Common
import Testing
@testable import DTLS

@Suite struct DTLSFingerprintCheckTests {
    static let stranger = Fingerprint(bytes: InlineArray<32, UInt8>(repeating: 0xAB))

    @Test func clientRejectsAServerWithTheWrongFingerprint() throws {
        let pair = try DTLSPair(clientExpects: Self.stranger)
        pair.start()
        pair.run()
        #expect(pair.client.state == .failed(.fingerprintMismatch))
        #expect(pair.clientEvents == [.failed(.fingerprintMismatch)])
        // The server learns of it through the client's alert and never connects.
        if case .connected = pair.server.state { Issue.record("server connected to a rejecting client") }
        #expect(pair.serverKeys == nil)
        #expect(DTLSError.fingerprintMismatch.description.contains("fingerprint"))
    }

    @Test func serverRejectsAClientWithTheWrongFingerprint() throws {
        let pair = try DTLSPair(serverExpects: Self.stranger)
        pair.start()
        pair.run()
        #expect(pair.server.state == .failed(.fingerprintMismatch))
        #expect(pair.serverEvents == [.failed(.fingerprintMismatch)])
        if case .connected = pair.client.state { Issue.record("client connected to a rejecting server") }
        #expect(pair.clientKeys == nil)
    }
}
