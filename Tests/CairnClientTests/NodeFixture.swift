import CairnClient
import CairnHTTP
import CairnHTTPTestSupport
import NIOCore

/// Limits small enough that tests reach them with small values.
let testLimits = APILimits(maxKeyBytes: 64, maxValueBytes: 1024, maxJSONBodyBytes: 4096)

/// Runs `body` with a client of an `HTTPServer` on 127.0.0.1 (port 0) serving `service`,
/// stopping the server afterwards whatever happens.
func withNode(
    _ service: InMemoryKeyValueService = InMemoryKeyValueService(), timeout: Duration = .seconds(5),
    _ body: @escaping @Sendable (CairnClient, InMemoryKeyValueService) async throws -> Void
) async throws {
    let server = HTTPServer(
        service: service,
        configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, limits: testLimits, lingerTimeout: .milliseconds(500)))
    let address = try await server.start()
    let client = try CairnClient(node: "127.0.0.1:\(address.port!)", timeout: timeout)
    do {
        try await withTimeout(seconds: 20) { try await body(client, service) }
    } catch {
        client.close()
        await server.stop(gracePeriod: .milliseconds(100))
        throw error
    }
    client.close()
    await server.stop(gracePeriod: .milliseconds(100))
}

/// A port on 127.0.0.1 where nothing listens: a server's, after it stopped.
func closedPort() async throws -> Int {
    let server = HTTPServer(
        service: InMemoryKeyValueService(), configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0))
    let address = try await server.start()
    await server.stop(gracePeriod: .milliseconds(10))
    return address.port!
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
