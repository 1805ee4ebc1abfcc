// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnCore", targets: ["CairnCore"]),
        .library(name: "CairnNodeCore", targets: ["CairnNodeCore"]),
        .library(name: "CairnWire", targets: ["CairnWire"]),
        .library(name: "CairnTransport", targets: ["CairnTransport"]),
        .library(name: "CairnClient", targets: ["CairnClient"]),
        .executable(name: "cairn", targets: ["cairn"]),
        .executable(name: "cairn-sim", targets: ["cairn-sim"]),
        .executable(name: "cairnd", targets: ["cairnd"]),
        .executable(name: "cairn-chaos", targets: ["cairn-chaos"]),
    ],
    // `swift build -c release --traits OpenTelemetry`: cairnd can export traces over OTLP/HTTP
    // (`--otel-endpoint`, swift-otel). Off by default: swift-otel and its HTTP client add several
    // minutes to a clean build, and the spans are made either way (docs/operations.md, "Tracing").
    traits: [
        .trait(name: "OpenTelemetry", description: "cairnd exports traces over OTLP/HTTP (swift-otel)"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(
            url: "https://github.com/swift-otel/swift-otel", from: "1.6.0",
            traits: [.trait(name: "OTLPHTTP", condition: .when(traits: ["OpenTelemetry"]))]),
    ],
    targets: [
        // C libraries from Debian (Scripts/setup.sh installs them); shims only.
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // Linked only into the benchmark, never into the engine or the node.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),

        .target(
            name: "CairnStorage",
            dependencies: [
                "CXXHash", "CLZ4",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pure protocol logic: no I/O, no clocks read, no randomness created. Standard library only.
        .target(name: "CairnCore"),
        // The node core: every decision of a node's data path as events in, commands out, with
        // no I/O. `cairnd` (CairnNode) and the simulator (CairnSim) are its two executors.
        .target(name: "CairnNodeCore", dependencies: ["CairnCore"]),
        // Internode messages, frames and the handshake machine: bytes in ByteBuffers, no sockets.
        .target(
            name: "CairnWire",
            dependencies: ["CairnCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Internode connections over real sockets: server, peers with multiplexed requests,
        // the pool keyed by address, and the HMAC that proves the cluster secret.
        .target(
            name: "CairnTransport",
            dependencies: [
                "CairnWire", "CairnCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // TLS as the node and the CLI use it: the certificates directory (ca.crt, node.crt,
        // node.key) made into NIOSSL contexts, and a small certificate authority (`cairn certs`).
        .target(
            name: "CairnTLS",
            dependencies: [
                "CairnTransport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Deterministic simulation of whole clusters: seeded randomness, virtual time, faulty network.
        // The checkers of histories (set, CAS register, plain overwrite), shared by the simulator
        // and the chaos workloads against real clusters.
        .target(name: "CairnCheck", dependencies: ["CairnCore"]),
        .target(name: "CairnSim", dependencies: ["CairnCore", "CairnNodeCore", "CairnCheck"]),
        // The chaos workloads, their checks and the run's timeline, against real clusters.
        .target(name: "CairnChaos", dependencies: ["CairnCheck", "CairnClient", "CairnCore"]),
        // The node's HTTP API: request parsing and response rendering (pure), and a NIO server
        // that serves them against a `KeyValueService` the node implements.
        .target(
            name: "CairnHTTP",
            dependencies: [
                "CairnCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The node's Redis protocol (RESP2/RESP3) listener: a strict incremental parser, the
        // translation of Redis commands to the same `KeyValueService` the HTTP API serves, and
        // a NIO server with backpressure (docs/resp.md).
        .target(
            name: "CairnRESP",
            dependencies: [
                "CairnHTTP", "CairnCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // HTTP/1.1 client of one node's API, for the CLI, the benchmark and the chaos workload.
        // Reuses CairnHTTP's JSON, base64 and percent-encoding so both sides read the same bytes.
        .target(
            name: "CairnClient",
            dependencies: [
                "CairnHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "CairnBench",
            dependencies: [
                "CairnStorage", "CLMDB", "CRocksDB",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The cluster load generator behind `cairn bench load`: workloads, key distributions,
        // the open-loop schedule, transports (HTTP through CairnClient, a small RESP2 client),
        // and the reports (table, JSON, .hgrm percentile file, SVG plot).
        .target(
            name: "CairnLoad",
            dependencies: [
                "CairnBench", "CairnClient", "CairnHTTP", "CairnCore",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CairnBench", "CairnClient", "CairnCore", "CairnHTTP", "CairnLoad", "CairnTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The node: the I/O shell around the CairnCore machines (storage, transport, HTTP).
        .target(
            name: "CairnNode",
            dependencies: [
                "CairnCore", "CairnNodeCore", "CairnStorage", "CairnWire", "CairnTransport", "CairnHTTP", "CXXHash",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "cairnd",
            dependencies: [
                "CairnNode", "CairnHTTP", "CairnRESP", "CairnStorage", "CairnTransport", "CairnTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OpenTelemetry"])),
            ]
        ),
        // Runs many seeds of the cluster simulation (`swift run -c release cairn-sim --seeds N`).
        .executableTarget(
            name: "cairn-sim",
            dependencies: [
                "CairnSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets for every decoder a peer, a client or a disk feeds (Scripts/fuzz.sh);
        // built normally it replays inputs and writes the seed corpora.
        .executableTarget(
            name: "cairn-fuzz",
            dependencies: [
                "CairnCore", "CairnWire", "CairnHTTP", "CairnRESP", "CairnNodeCore", "CairnNode", "CairnStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A small process the storage tests start, kill and race (crash and lock tests).
        .executableTarget(
            name: "cairn-chaos",
            dependencies: [
                "CairnChaos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "cairn-storage-probe",
            dependencies: ["CairnStorage"]
        ),
        .testTarget(
            name: "CairnStorageTests",
            dependencies: [
                "CairnStorage", "cairn-storage-probe",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CairnChaosTests",
            dependencies: ["CairnChaos", "CairnCheck"]
        ),
        .testTarget(
            name: "CairnSimTests",
            dependencies: ["CairnSim", "CairnCheck"]
        ),
        // Tests of CairnWire and CairnTransport (codec, frames, handshake, sockets).
        .testTarget(
            name: "CairnWireTests",
            dependencies: [
                "CairnWire", "CairnTransport", "CairnCore", "CairnTLS", "CairnHTTPTestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Real cairnd processes on loopback, driven through curl.
        .testTarget(
            name: "CairnNodeTests",
            dependencies: [
                "cairnd", "CairnClient", "CairnCore", "CairnHTTP", "CairnNode", "CairnWire", "CairnTransport", "CairnTLS",
                "CairnHTTPTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The node core driven directly: events in, commands out, over an in-memory disk.
        .testTarget(
            name: "CairnNodeCoreTests",
            dependencies: ["CairnNodeCore", "CairnCore"]
        ),
        .testTarget(
            name: "CairnCoreTests",
            dependencies: ["CairnCore", "CairnSim", "CairnCheck", "CXXHash"]
        ),
        // The in-memory `KeyValueService` double, shared by the HTTP and client tests.
        .target(
            name: "CairnHTTPTestSupport",
            dependencies: [
                "CairnHTTP", "CairnCore", "CairnTLS", "CairnTransport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/CairnHTTPTestSupport"
        ),
        .testTarget(
            name: "CairnHTTPTests",
            dependencies: [
                "CairnHTTP", "CairnCore", "CairnHTTPTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The Redis protocol: parser and commands (pure), the handler on EmbeddedChannel, and the
        // server on real sockets, against the in-memory service.
        .testTarget(
            name: "CairnRESPTests",
            dependencies: [
                "CairnRESP", "CairnHTTP", "CairnCore", "CairnHTTPTestSupport", "CairnTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The client against a real HTTPServer on loopback, and the CLI's parsing and formatting.
        .testTarget(
            name: "CairnClientTests",
            dependencies: [
                "CairnClient", "CairnHTTP", "CairnHTTPTestSupport", "cairn", "CairnTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The load generator's pure parts (Zipf sampling, open-loop schedule, percentile file,
        // plot, RESP reply decoding): no sockets, no timing.
        .testTarget(
            name: "CairnLoadTests",
            dependencies: [
                "CairnLoad", "CairnBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds specialise generic code across Cairn's own modules (the quorum coordinators,
// DVVSet and the event queue are generic in CairnCore and used from the node): without it each
// call goes through runtime generic metadata and value witnesses, 9% of a GET's CPU
// (docs/benchmarks.md, "Generic code across modules"). An unsafe flag, so another package cannot
// depend on this one; Cairn is an application, and debug builds (the tests) are unaffected.
for target in package.targets where target.type == .regular || target.type == .executable {
    var settings = target.swiftSettings ?? []
    settings.append(.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)))
    target.swiftSettings = settings
}
