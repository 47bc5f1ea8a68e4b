// swift-tools-version: 6.0
// The package builds normally on the host (`swift build`, `swift test`). The protocol
// modules (Common, Crypto, STUN, ...) are also compiled as Embedded Swift for the device by
// `toolchain/build`, which compiles the same source folders directly with swiftc.
import PackageDescription

let package = Package(
    name: "ice-agent",
    products: [
        .executable(name: "ice-agent", targets: ["ice-agent"]),
        .executable(name: "ice-bench", targets: ["ice-bench"]),
    ],
    targets: [
        // C headers through thin module maps (DESIGN.md: C only through module maps).
        // mbedTLS from scripts/install-deps: Debian's 2.28 with use_srtp's AEAD_AES_128_GCM
        // (toolchain/mbedtls-srtp-gcm.patch), static, in a prefix of its own that the .pc's -I and
        // -L put ahead of Debian's unpatched libmbedtls-dev.
        .systemLibrary(name: "CMbedTLS", path: "Sources/CMbedTLS", pkgConfig: "ice-agent-mbedtls"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CGPIOD", path: "Sources/CGPIOD"),
        // libsrtp2 on mbedTLS, static, in /usr/local (scripts/install-deps): the .pc adds the
        // -L the linker does not search by itself.
        .systemLibrary(name: "CSRTP", path: "Sources/CSRTP", pkgConfig: "libsrtp2-mbedtls"),
        // CRC-32 with the CPU's instructions (ARMv8 CRC32, x86-64 PCLMULQDQ), header-only
        // (FINGERPRINT, RFC 8489 §14.7).
        .systemLibrary(name: "CCRC32", path: "Sources/CCRC32"),

        // Protocol modules: sans-IO, Embedded-Swift compatible.
        .target(name: "Common", path: "Sources/Common"),
        .target(
            name: "Crypto", dependencies: ["CMbedTLS", "CCRC32"], path: "Sources/Crypto",
            linkerSettings: [.linkedLibrary("mbedcrypto")]),
        .target(name: "STUN", dependencies: ["Common", "Crypto"], path: "Sources/STUN"),
        // The agent's generic code is available to its callers too (see Connectivity): unspecialized,
        // every access to its per-component tables asked the runtime for generic metadata.
        .target(name: "ICE", dependencies: ["Common", "STUN"], path: "Sources/ICE",
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        .target(name: "TURN", dependencies: ["Common", "STUN"], path: "Sources/TURN",
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        // RFC 5780 NAT behaviour discovery, the client side (`ice-agent nat-type`).
        .target(name: "NATBehavior", dependencies: ["Common", "STUN"], path: "Sources/NATBehavior"),
        // The kernel's link and address notifications (rtnetlink), interpreted.
        .target(name: "RTNetlink", dependencies: ["Common"], path: "Sources/RTNetlink"),
        .target(name: "SDP", dependencies: ["Common", "ICE"], path: "Sources/SDP"),
        // One-shot mDNS resolution of ".local" names (RFC 6762 §5.1), for browsers' host candidates.
        .target(name: "MDNS", dependencies: ["Common"], path: "Sources/MDNS"),
        // The sans-IO composition of one call: the ICE agent and its TURN allocations. Its
        // generic code is made available to its callers, so the daemon's packet path runs it
        // specialized for SystemRandom instead of through runtime generic metadata (measured:
        // ice-bench rtp, CPU per packet).
        .target(name: "Connectivity", dependencies: ["Common", "Crypto", "ICE", "TURN", "DTLS", "SRTP"], path: "Sources/Connectivity",
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        // DTLS 1.2 with use_srtp (RFC 6347, RFC 5764) on mbedTLS, sans-IO: the handshake that keys
        // SRTP, bound to the signaled certificate fingerprint (RFC 5763).
        .target(
            name: "DTLS", dependencies: ["Common", "Crypto", "CMbedTLS"], path: "Sources/DTLS",
            linkerSettings: [.linkedLibrary("mbedtls"), .linkedLibrary("mbedx509"), .linkedLibrary("mbedcrypto")]),
        // SRTP and SRTCP (RFC 3711, RFC 7714) on libsrtp2: media protected in place.
        .target(name: "SRTP", dependencies: ["Common", "CSRTP"], path: "Sources/SRTP"),
        .target(name: "RTP", dependencies: ["Common"], path: "Sources/RTP"),
        .target(name: "HTTP", dependencies: ["Common"], path: "Sources/HTTP"),
        // The configuration file's `key = value` syntax (the keys are ice-agent's business).
        .target(name: "Config", path: "Sources/Config"),
        // Drives two agents over an allocation-free in-memory link (self-test, benchmarks).
        .target(name: "ICEHarness", dependencies: ["Common", "ICE"], path: "Sources/ICEHarness"),
        // Deterministic network simulator (NATs, links, STUN and TURN servers, ICE agents with trickle
        // signaling) on a virtual clock: host-only, used by the tests and ice-bench.
        .target(name: "NetworkSimulator", dependencies: ["Common", "STUN", "ICE", "TURN", "Connectivity"], path: "Sources/NetworkSimulator"),

        // Known-answer vectors (RFC 5769, RFC 8489 B.1) shared by the unit tests and the
        // device self-test.
        .target(name: "STUNTestVectors", dependencies: ["Common", "STUN"], path: "Sources/STUNTestVectors"),

        // Host runtime: sockets and clocks through the CLinux shim; TLS client connections
        // (`turns:` TURN servers) through mbedTLS.
        .target(
            name: "Runtime", dependencies: ["Common", "CLinux", "CMbedTLS"], path: "Sources/Runtime",
            linkerSettings: [.linkedLibrary("mbedtls"), .linkedLibrary("mbedx509"), .linkedLibrary("mbedcrypto")]),
        // The board: status LEDs and the doorbell button over libgpiod (pure logic plus a thin driver).
        .target(
            name: "Board", dependencies: ["Common", "Runtime", "CGPIOD"], path: "Sources/Board",
            linkerSettings: [.linkedLibrary("gpiod")]),

        // The daemon's parts (sessions, signaling transports, media relay, status socket, the
        // demo's in-process helpers), shared by ice-agent and ice-bench.
        .target(
            name: "Daemon", dependencies: ["Common", "Crypto", "STUN", "ICE", "TURN", "Connectivity", "DTLS", "SRTP", "SDP", "RTP", "HTTP", "Runtime", "MDNS", "RTNetlink", "NATBehavior"], path: "Sources/Daemon"),
        .executableTarget(
            name: "ice-agent", dependencies: ["Daemon", "Board", "Config", "STUN", "ICE", "TURN", "SDP", "RTP", "HTTP", "Runtime", "NATBehavior"], path: "Sources/ice-agent"),
        // Replaces malloc & co. in the benchmark process to count heap allocations.
        .target(name: "AllocationCounter", dependencies: ["CLinux"], path: "Sources/AllocationCounter"),
        .executableTarget(
            name: "ice-bench",
            dependencies: [
                "STUN", "ICE", "ICEHarness", "NetworkSimulator", "Crypto", "CMbedTLS", "AllocationCounter", "Runtime",
                "Daemon", "SRTP", "CSRTP", "DTLS", "SDP",
            ],
            path: "Sources/ice-bench",
            // malloc & co. must be in the dynamic symbol table to interpose libc's for the
            // Swift runtime and mbedTLS too.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]),
        // The device self-test, also buildable (and run in tests) on the host.
        .executableTarget(
            name: "device-selftest", dependencies: ["Crypto", "STUN", "STUNTestVectors", "ICE", "ICEHarness", "CLinux", "DTLS", "SRTP"], path: "Sources/device-selftest"),

        // Shared test support (processes, free ports, coturn, the repository's root): test targets only.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "CommonTests", dependencies: ["Common"], path: "Tests/CommonTests"),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"], path: "Tests/CryptoTests"),
        .testTarget(name: "DTLSTests", dependencies: ["Common", "DTLS", "SRTP"], path: "Tests/DTLSTests"),
        .testTarget(name: "SRTPTests", dependencies: ["Common", "SRTP", "Crypto", "CMbedTLS"], path: "Tests/SRTPTests"),
        .testTarget(name: "SDPTests", dependencies: ["SDP"], path: "Tests/SDPTests"),
        .testTarget(name: "MDNSTests", dependencies: ["Common", "MDNS"], path: "Tests/MDNSTests"),
        .testTarget(name: "RTPTests", dependencies: ["RTP"], path: "Tests/RTPTests"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], path: "Tests/HTTPTests"),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "TestSupport"], path: "Tests/ConfigTests"),
        .testTarget(name: "STUNTests", dependencies: ["STUN", "STUNTestVectors"], path: "Tests/STUNTests"),
        .testTarget(name: "TURNTests", dependencies: ["Common", "STUN", "TURN"], path: "Tests/TURNTests"),
        .testTarget(
            name: "NATBehaviorTests", dependencies: ["Common", "STUN", "NATBehavior", "NetworkSimulator"],
            path: "Tests/NATBehaviorTests"),
        .testTarget(name: "RTNetlinkTests", dependencies: ["Common", "RTNetlink"], path: "Tests/RTNetlinkTests"),
        .testTarget(name: "ConnectivityTests", dependencies: ["Common", "ICE", "TURN", "DTLS", "Connectivity"], path: "Tests/ConnectivityTests"),
        // The built ice-agent and ice-bench as processes on loopback: no root, no third-party tool.
        .testTarget(
            name: "AgentProcessTests", dependencies: ["TestSupport", "STUNTestVectors", "ice-agent", "ice-bench"],
            path: "Tests/AgentProcessTests"),
        .testTarget(
            name: "ICETests", dependencies: ["Common", "STUN", "ICE", "TURN", "ICEHarness", "NetworkSimulator"],
            path: "Tests/ICETests"),
        .testTarget(name: "BoardTests", dependencies: ["Common", "Board", "TestSupport"], path: "Tests/BoardTests"),
        .testTarget(name: "RuntimeTests", dependencies: ["Common", "Runtime"], path: "Tests/RuntimeTests"),
    ]
)

// The system tests need root, network namespaces, coturn and the interop peers (aioice, libnice,
// pion): they are declared only when asked for, so plain `swift test` neither builds nor runs
// them and needs none of that. `scripts/test` runs them as
// `ICE_SYSTEM_TESTS=1 swift test --filter IntegrationTests`.
if Context.environment["ICE_SYSTEM_TESTS"] == "1" {
    package.targets.append(
        .testTarget(
            name: "IntegrationTests", dependencies: ["TestSupport", "ice-agent", "ice-bench", "Daemon", "MDNS", "Runtime", "Common", "DTLS"],
            path: "Tests/IntegrationTests"))
}

// Release builds check exclusive access at compile time only, as the device's Embedded Swift
// does (its swift_beginAccess is empty): the dynamic checks cost about 6% of the RTP relay's CPU
// per packet (ice-bench rtp: 1.21x the plain C forwarder with them, 1.14x without). Debug
// builds, and so the tests, keep them.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? [])
        + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
