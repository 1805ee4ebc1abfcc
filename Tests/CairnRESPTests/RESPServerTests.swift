import CairnHTTP
import CairnHTTPTestSupport
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import CairnRESP

/// The server on real sockets on 127.0.0.1 (port 0: the system picks a free one), against the
/// in-memory service, talked to byte by byte.
@Suite struct RESPServerTests {
    static let limits = RESPLimits(api: APILimits(maxKeyBytes: 64, maxValueBytes: 64 << 10), maxBulkBytes: 128 << 10)

    func withServer(
        service: InMemoryKeyValueService = InMemoryKeyValueService(),
        maxConnections: Int = 16, stallTimeout: Duration = .seconds(30),
        _ body: @Sendable (RESPServer, SocketAddress) async throws -> Void
    ) async throws {
        let server = RESPServer(
            service: service,
            configuration: RESPServer.Configuration(
                host: "127.0.0.1", port: 0, limits: Self.limits, maxConnections: maxConnections, stallTimeout: stallTimeout),
            logger: Logger(label: "resp-test"))
        let address = try await server.start()
        #expect(address.port != 0)
        do {
            try await body(server, address)
        } catch {
            await server.stop(gracePeriod: .milliseconds(100))
            throw error
        }
        await server.stop(gracePeriod: .milliseconds(100))
    }

    @Test func commandsAndAnswersOverOneConnection() async throws {
        try await withServer { _, address in
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                #expect(try await client.call("PING") == .simple("PONG"))
                #expect(try await client.call("SET", "greeting", "hello") == .simple("OK"))
                #expect(try await client.call("GET", "greeting") == .text("hello"))
                #expect(try await client.call("GET", "missing") == .null)
                #expect(try await client.call("DEL", "greeting") == .integer(1))
                #expect(try await client.call("NOSUCH").errorText?.hasPrefix("ERR unknown command 'NOSUCH'") == true)
                // Inline commands, as typed by hand.
                try await client.send(Array("SET typed \"two words\"\r\nGET typed\r\n".utf8))
                #expect(try await client.replies(2) == [.simple("OK"), .text("two words")])
                // RESP3 after HELLO 3: nulls and maps of their own.
                guard case .map = try await client.call("HELLO", "3") else { Issue.record("HELLO 3 answered no map"); return }
                try await client.send(Array("GET missing\r\n".utf8))
                #expect(try await client.reply() == .null)
            }
        }
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() async throws {
        let service = InMemoryKeyValueService(slowReadDelay: .milliseconds(20))
        try await withServer(service: service) { _, address in
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                // 500 commands in one write; slow reads among them must not reorder anything,
                // and each GET sees the SET before it.
                var bytes: [UInt8] = []
                for index in 0..<250 {
                    let key = index % 50 == 0 ? "slow\(index)" : "k\(index)"
                    bytes += command("SET", key, "v\(index)") + command("GET", key)
                }
                try await client.send(bytes)
                let replies = try await client.replies(500)
                for index in 0..<250 {
                    #expect(replies[2 * index] == .simple("OK"))
                    #expect(replies[2 * index + 1] == .text("v\(index)"))
                }
            }
        }
    }

    @Test func badInputIsAnsweredAndTheConnectionGoesOn() async throws {
        try await withServer { server, address in
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                // A bulk string over the limit, announced by its header: refused, skipped, and the
                // next command still answered.
                let big = [UInt8](repeating: UInt8(ascii: "x"), count: (128 << 10) + 1)
                try await client.send(command([Array("SET".utf8), Array("k".utf8), big]) + command("PING"))
                let replies = try await client.replies(2)
                #expect(replies[0].errorText?.hasPrefix("ERR Protocol error: a bulk string of 131073 bytes") == true)
                #expect(replies[1] == .simple("PONG"))
                // A value over the value limit but within the framing limit: refused by SET.
                let large = [UInt8](repeating: UInt8(ascii: "y"), count: (64 << 10) + 1)
                #expect(try await client.call(bytes: [Array("SET".utf8), Array("k".utf8), large]).errorText
                        == "ERR value is larger than the limit of 65536 bytes")
                // Broken framing: one error, then the next line.
                try await client.send(Array("*2\r\n$3\r\nGET\r\n:1\r\n".utf8) + command("PING"))
                #expect(try await client.replies(2) == [.error("ERR Protocol error: expected '$', got ':'"), .simple("PONG")])
                // An array over the argument limit: one refusal, its elements read past and not
                // kept, and the command after it answered.
                try await client.send(Array("*5000\r\n".utf8) + Array(repeating: Array("$1\r\nx\r\n".utf8), count: 5000).flatMap { $0 })
                #expect(try await client.reply().errorText?.hasPrefix("ERR Protocol error: 5000 arguments") == true)
                #expect(try await client.call("ECHO", "still here") == .text("still here"))
                _ = server
            }
            // The server took no harm: a new connection is served.
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                #expect(try await client.call("PING") == .simple("PONG"))
            }
        }
    }

    @Test func quitAndForeignProtocolsClose() async throws {
        try await withServer { _, address in
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                #expect(try await client.call("QUIT") == .simple("OK"))
                #expect(try await client.closesWithoutMore())
            }
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                try await client.send(Array("POST /v1/keys/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                #expect(try await client.closesWithoutMore())
            }
        }
    }

    @Test func connectionsBeyondTheCapAreRefused() async throws {
        try await withServer(maxConnections: 2) { server, address in
            try await RawClient.with(address) { first in
                #expect(try await first.call("PING") == .simple("PONG"))
                try await RawClient.with(address) { (second: RawClient) async throws -> Void in
                    #expect(try await second.call("PING") == .simple("PONG"))
                    try await RawClient.with(address) { (third: RawClient) async throws -> Void in
                        #expect(try await third.reply() == .error("ERR max number of clients reached"))
                        #expect(try await third.closesWithoutMore())
                    }
                    #expect(server.state.connections == 2)
                }
            }
        }
    }

    /// A client that sends many commands and reads none of the answers: the server stops
    /// taking commands once its output backs up, instead of buffering every answer; when the
    /// client reads, every answer arrives, in order.
    @Test func aClientThatDoesNotReadIsNotAnsweredWithoutBound() async throws {
        try await withServer { server, address in
            let value = [UInt8](repeating: UInt8(ascii: "v"), count: 60 << 10)
            try await RawClient.with(address, seconds: 60) { (client: RawClient) async throws -> Void in
                #expect(try await client.call(bytes: [Array("SET".utf8), Array("big".utf8), value]) == .simple("OK"))
                let before = server.state.commandsProcessed
                let count = 2_000  // 120 MB of answers
                var bytes: [UInt8] = []
                for _ in 0..<count { bytes += command("GET", "big") }
                try await client.send(bytes)
                // Let the server run until it stalls on the full socket.
                var processed = server.state.commandsProcessed
                for _ in 0..<50 {
                    try await Task.sleep(for: .milliseconds(100))
                    let now = server.state.commandsProcessed
                    if now == processed { break }
                    processed = now
                }
                try await Task.sleep(for: .milliseconds(300))
                let stalledAt = server.state.commandsProcessed - before
                #expect(stalledAt < count / 2, "the server answered \(stalledAt) of \(count) commands nobody read")
                #expect(stalledAt > 0)
                let replies = try await client.replies(count)
                #expect(replies.allSatisfy { $0 == .bulk(value) })
                #expect(server.state.commandsProcessed - before == count)
            }
        }
    }

    @Test func aCommandStalledMidwayIsClosedAfterTheStallTimeout() async throws {
        try await withServer(stallTimeout: .milliseconds(300)) { _, address in
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                try await client.send(Array("*2\r\n$3\r\nGET\r\n".utf8))
                #expect(try await client.closesWithoutMore())
            }
            // A connection idle between commands stays.
            try await RawClient.with(address) { (client: RawClient) async throws -> Void in
                #expect(try await client.call("PING") == .simple("PONG"))
                try await Task.sleep(for: .milliseconds(700))
                #expect(try await client.call("PING") == .simple("PONG"))
            }
        }
    }

    @Test func stopLetsTheCommandInProgressFinish() async throws {
        let service = InMemoryKeyValueService()
        let server = RESPServer(
            service: service, configuration: RESPServer.Configuration(host: "127.0.0.1", port: 0, limits: Self.limits),
            logger: Logger(label: "resp-test"))
        let address = try await server.start()
        try await RawClient.with(address) { (client: RawClient) async throws -> Void in
            try await client.send(command("GET", "held"))
            while await service.heldReadsWaiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            async let stopped: Void = server.stop(gracePeriod: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            await service.releaseHeldReads()
            #expect(try await client.reply() == .null)
            #expect(try await client.closesWithoutMore())
            await stopped
        }
    }
}
