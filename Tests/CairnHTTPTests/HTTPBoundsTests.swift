import CairnCore
import CairnHTTPTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import CairnHTTP

/// What a hostile or broken client can make the server hold is bounded: connections, slow
/// headers and bodies, bodies in memory, answers it does not read (docs/api.md, "Connections").
@Suite struct HTTPBoundsTests {
    static let limits = APILimits(maxKeyBytes: 64, maxValueBytes: 64 << 10)

    func withServer(
        service: InMemoryKeyValueService = InMemoryKeyValueService(), _ configure: (inout HTTPServer.Configuration) -> Void,
        _ body: (HTTPServer, SocketAddress) async throws -> Void
    ) async throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, limits: Self.limits, lingerTimeout: .milliseconds(300))
        configure(&configuration)
        try await withStarted(HTTPServer(service: service, configuration: configuration), body)
    }

    /// Opens `count` connections at once and runs `body` with them all open.
    func holding(_ count: Int, to address: SocketAddress, _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard count > 0 else { return try await body() }
        try await Conversation.with(address) { client in
            // A request answered proves the connection was taken, not merely queued.
            try await client.send(rawRequest("GET", "/health"))
            #expect(try await client.response().status == 200)
            try await holding(count - 1, to: address, body)
        }
    }

    @Test func pastTheConnectionLimitANewConnectionGetsA503AndIsClosed() async throws {
        try await withServer({ $0.maxConnections = 3 }) { server, address in
            try await holding(3, to: address) {
                try await Conversation.with(address) { extra in
                    let refused = try await extra.response()
                    #expect(refused.status == 503)
                    #expect(refused.errorCode == "overloaded")
                    #expect(refused.header("Retry-After") == "1")
                    #expect(try await extra.closesWithoutMore())
                }
            }
            // The slots come back as the connections close.
            for _ in 0..<100 where server.connectionsOpen > 0 { try await Task.sleep(for: .milliseconds(20)) }
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/health"))
                #expect(try await client.response().status == 200)
            }
        }
    }

    @Test func headersSentByteByByteTooSlowlyGetA408() async throws {
        try await withServer({ $0.headerTimeout = .seconds(1) }) { _, address in
            try await Conversation.with(address) { client in
                let started = ContinuousClock.now
                try await client.send(Array("GET /v1/keys/k HTTP/1.1\r\n".utf8))
                for byte in Array("Host: t".utf8) {
                    // The server closes the connection after its answer: sending then fails.
                    guard (try? await client.send([byte])) != nil else { break }
                    try await Task.sleep(for: .milliseconds(300))
                    if ContinuousClock.now - started > .seconds(4) { break }
                }
                let response = try await client.response()
                #expect(response.status == 408)
                #expect(response.errorCode == "request_timeout")
                #expect(try await client.closesWithoutMore())
            }
        }
    }

    @Test func aBodyBelowTheMinimumRateGetsA408() async throws {
        try await withServer({ $0.bodyGracePeriod = .seconds(1); $0.minBodyBytesPerSecond = 10_000 }) { _, address in
            try await Conversation.with(address) { client in
                try await client.send(Array(
                    "PUT /v1/keys/k HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 60000\r\n\r\n".utf8))
                for _ in 0..<30 {
                    guard (try? await client.send(Array(repeating: 7, count: 10))) != nil else { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let response = try await client.response()
                #expect(response.status == 408)
                #expect(response.errorCode == "request_timeout")
            }
        }
    }

    /// Bodies are counted as they arrive, against one budget for the server: the request that
    /// would pass it is refused; once the others finish, bodies are taken again.
    @Test func bodiesInMemoryAreBoundedAcrossConnections() async throws {
        let service = InMemoryKeyValueService()
        try await withServer(service: service, { $0.maxBodyBytesInMemory = 100_000 }) { server, address in
            let head = Array("PUT /v1/keys/k HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 60000\r\n\r\n".utf8)
            try await Conversation.with(address) { first in
                try await first.send(head + Array(repeating: 1, count: 59_000))
                for _ in 0..<100 where server.bodyBytesInMemory < 59_000 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(server.bodyBytesInMemory == 59_000)
                try await Conversation.with(address) { second in
                    try await second.send(head + Array(repeating: 2, count: 59_000))
                    let refused = try await second.response()
                    #expect(refused.status == 503 && refused.errorCode == "overloaded", "\(refused.status)")
                }
                try await first.send(Array(repeating: 1, count: 1_000))
                #expect(try await first.response().status == 200)
            }
            for _ in 0..<100 where server.bodyBytesInMemory > 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.bodyBytesInMemory == 0)
        }
    }

    /// A client that pipelines GETs of a large value and reads none of the answers: the server
    /// stops reading its requests once the answers queued for it pass the bound, instead of
    /// answering all of them into memory.
    @Test func aClientThatNeverReadsStopsBeingServed() async throws {
        let service = InMemoryKeyValueService()
        let value = Array(repeating: UInt8(ascii: "v"), count: 60_000)
        _ = try await service.put(key: Array("big".utf8), value: value, ttl: nil, supersedes: .nothing, w: nil)
        try await withServer(service: service, { $0.maxQueuedResponseBytes = 64 << 10 }) { _, address in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                .connect(to: address).get()
            let request = Array("GET /v1/keys/big HTTP/1.1\r\nHost: t\r\nAccept: application/octet-stream\r\n\r\n".utf8)
            let sent = 2_000
            for _ in 0..<(sent / 100) {
                try await channel.writeAndFlush(ByteBuffer(bytes: Array((0..<100).map { _ in request }.joined())))
            }
            try await Task.sleep(for: .seconds(1))
            let served = await service.calls.filter { $0.hasPrefix("get") }.count
            // Each answer is 60 kB: the socket buffers hold a few dozen, the server's queue one.
            #expect(served < 200, "\(served) of \(sent) GETs answered to a client that reads nothing")
            try await channel.close()
        }
    }
}
