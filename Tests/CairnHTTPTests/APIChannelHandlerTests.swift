import CairnCore
import CairnHTTPTestSupport
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import CairnHTTP

/// The channel handler in NIOHTTP1's server pipeline on a testing channel: bytes in, bytes out.
@Suite struct APIChannelHandlerTests {
    static let limits = APILimits(maxKeyBytes: 64, maxValueBytes: 32, maxJSONBodyBytes: 128)

    /// A testing channel with the server's pipeline, and what it has written so far.
    final class Connection: Sendable {
        let channel = NIOAsyncTestingChannel()
        let service: InMemoryKeyValueService
        let inFlightLimit: InFlightLimit

        init(
            service: InMemoryKeyValueService = InMemoryKeyValueService(), inFlightLimit: InFlightLimit = InFlightLimit(limit: 1024)
        ) async throws {
            self.service = service
            self.inFlightLimit = inFlightLimit
            let channel = self.channel
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                    withPipeliningAssistance: true, withErrorHandling: false)
                try channel.pipeline.syncOperations.addHandler(
                    APIChannelHandler(
                        service: service, limits: APIChannelHandlerTests.limits, lingerTimeout: .milliseconds(200),
                        inFlightLimit: inFlightLimit, bounds: ConnectionBounds(maxConnections: 16, maxBodyBytes: 64 << 20),
                        phase: RequestPhase()))
            }.get()
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
            #expect(channel.isActive)
        }

        func send(_ bytes: [UInt8]) async throws {
            try await channel.writeInbound(ByteBuffer(bytes: bytes))
        }

        /// Reads until `count` whole responses have been written.
        func responses(_ count: Int) async throws -> [RawResponse] {
            let channel = self.channel
            return try await withTimeout {
                var bytes: [UInt8] = []
                var responses: [RawResponse] = []
                while responses.count < count {
                    switch try await channel.waitForOutboundWrite(as: IOData.self) {
                    case .byteBuffer(let buffer): bytes += Array(buffer.readableBytesView)
                    case .fileRegion: Issue.record("file region written")
                    }
                    responses += RawResponse.parseAll(&bytes)
                }
                return responses
            }
        }

        func response() async throws -> RawResponse { try await responses(1)[0] }

        func waitUntilClosed() async throws {
            let channel = self.channel
            try await withTimeout { try await channel.closeFuture.get() }
        }
    }

    @Test func putThenGetOnOneKeptAliveConnection() async throws {
        let connection = try await Connection()
        try await connection.send(rawRequest("PUT", "/v1/keys/greeting?ttl=60", headers: [("Content-Type", "application/octet-stream")], body: Array("hello".utf8)))
        let put = try await connection.response()
        #expect(put.status == 200)
        #expect(put.header("Connection") == nil)
        try await connection.send(rawRequest("GET", "/v1/keys/greeting"))
        let get = try await connection.response()
        #expect(get.status == 200)
        #expect(try get.json()["value"] == "hello")
        #expect(get.header("X-Cairn-Context") != nil)
        #expect(get.header("Content-Length") == String(get.body.count))
        #expect(connection.channel.isActive)
        #expect(await connection.service.calls == ["put ttl=60 w=-", "get r=-"])
    }

    @Test func malformedJSONIsA400AndTheConnectionGoesOn() async throws {
        let connection = try await Connection()
        try await connection.send(rawRequest("PUT", "/v1/keys/k", json: #"{"value": "#))
        let bad = try await connection.response()
        #expect(bad.status == 400)
        #expect(bad.errorCode == "invalid_json")
        #expect(bad.header("Content-Type") == "application/json")
        try await connection.send(rawRequest("GET", "/health"))
        #expect(try await connection.response().status == 200)
        #expect(await connection.service.calls == ["health"])
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheResponse() async throws {
        let connection = try await Connection()
        try await connection.send(Array("GET /health HTTP/1.0\r\n\r\n".utf8))
        let response = try await connection.response()
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        try await connection.waitUntilClosed()
    }

    @Test func http10KeepAliveIsHonoured() async throws {
        let connection = try await Connection()
        try await connection.send(Array("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        let response = try await connection.response()
        #expect(response.header("Connection") == "keep-alive")
        #expect(connection.channel.isActive)
    }

    @Test func expectContinueGetsA100ThenTheResponse() async throws {
        let connection = try await Connection()
        try await connection.send(
            Array("PUT /v1/keys/k HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n".utf8))
        let interim = try await connection.response()
        #expect(interim.status == 100)
        try await connection.send([1, 2])
        #expect(try await connection.response().status == 200)
    }

    @Test func aDeclaredOversizeValueIsRefusedBeforeItsBodyAndTheConnectionCloses() async throws {
        let connection = try await Connection()
        // Only the head is sent: the refusal must not wait for the body.
        try await connection.send(Array("PUT /v1/keys/k HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 33\r\n\r\n".utf8))
        let response = try await connection.response()
        #expect(response.status == 413)
        #expect(response.errorCode == "value_too_large")
        #expect(response.header("Connection") == "close")
        try await connection.waitUntilClosed()
        #expect(await connection.service.calls == [])
    }

    @Test func aChunkedBodyIsRefusedOnceItPassesTheLimit() async throws {
        let connection = try await Connection()
        try await connection.send(Array("PUT /v1/keys/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        let chunk = String(repeating: "x", count: 100)
        try await connection.send(Array("64\r\n\(chunk)\r\n".utf8))
        try await connection.send(Array("64\r\n\(chunk)\r\n".utf8))
        let response = try await connection.response()
        #expect(response.status == 413)
        #expect(response.errorCode == "body_too_large")
        try await connection.waitUntilClosed()
    }

    @Test func garbageIsA400WithAJSONBody() async throws {
        let connection = try await Connection()
        try await connection.send(Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        let response = try await connection.response()
        #expect(response.status == 400)
        #expect(response.errorCode == "bad_request")
        try await connection.waitUntilClosed()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let connection = try await Connection()
        // The first read is slow; its response must still come first.
        try await connection.send(
            rawRequest("PUT", "/v1/keys/slow1", json: #"{"value":"s"}"#) + rawRequest("GET", "/v1/keys/slow1")
                + rawRequest("GET", "/v1/keys/none") + rawRequest("GET", "/v1/keys?prefix=slow"))
        let responses = try await connection.responses(4)
        #expect(responses.map(\.status) == [200, 200, 404, 200])
        #expect(try responses[1].json()["value"] == "s")
        #expect(try responses[3].json()["keys"] == [["key": "slow1"]])
    }

    @Test func pipelinedRequestsShareOneInFlightSlot() async throws {
        // With a cap of 1, each pipelined request takes over the slot of the response before it.
        let limit = InFlightLimit(limit: 1)
        let connection = try await Connection(inFlightLimit: limit)
        var batch: [UInt8] = []
        for index in 0..<5 {
            batch += rawRequest("PUT", "/v1/keys/slow\(index)", json: #"{"value": "v"}"#)
            batch += rawRequest("GET", "/v1/keys/slow\(index)")
        }
        try await connection.send(batch)
        let responses = try await connection.responses(10)
        #expect(responses.map(\.status) == Array(repeating: 200, count: 10))
        try await connection.channel.eventLoop.submit {}.get()  // the last write's completion has run
        #expect(limit.current == 0)
        // A second connection sharing the limit is refused while the first holds the slot.
        let other = try await Connection(service: connection.service, inFlightLimit: limit)
        #expect(limit.acquire())
        try await other.send(rawRequest("GET", "/v1/keys/slow0"))
        let refused = try await other.response()
        #expect(refused.status == 503)
        #expect(refused.errorCode == "overloaded")
        #expect(refused.header("Retry-After") == "1")
        try await other.send(rawRequest("GET", "/health"))
        #expect(try await other.response().status == 200, "health takes no slot")
        limit.release()
        try await other.send(rawRequest("GET", "/v1/keys/slow0"))
        #expect(try await other.response().status == 200)
        try await other.channel.eventLoop.submit {}.get()
        #expect(limit.current == 0)
    }

    @Test func anIdleConnectionIsClosedButNotOneAwaitingTheService() async throws {
        let busy = try await Connection()
        try await busy.send(rawRequest("GET", "/v1/keys/slowkey"))
        busy.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(try await busy.response().status == 404)
        #expect(busy.channel.isActive)

        let idle = try await Connection()
        idle.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        try await idle.waitUntilClosed()
    }

    @Test func closingTheConnectionCancelsTheServiceCall() async throws {
        let connection = try await Connection()
        try await connection.send(rawRequest("GET", "/v1/keys/slowkey"))
        try await connection.channel.close()
        // The handler is gone with the channel; the response never arrives and nothing traps.
        try await Task.sleep(for: .milliseconds(150))
        #expect(await connection.service.calls == ["get r=-"])
    }
}
