import CairnHTTP
import CairnNode
import CairnRESP
import Logging
import ServiceLifecycle

/// The node as a `Service`: `run` starts it, tells each of `started` (or fails them with the
/// error), waits for graceful shutdown and stops it.
struct NodeLifecycle: Service, CustomStringConvertible {
    let node: Node
    /// One per server that waits for the node (HTTP, and RESP when it is on).
    let started: [AsyncThrowingStream<Void, any Error>.Continuation]

    var description: String { "node" }

    func run() async throws {
        do {
            try await node.start()
        } catch {
            for started in started { started.finish(throwing: error) }
            throw error
        }
        for started in started {
            started.yield()
            started.finish()
        }
        // Cancellation (only if the group itself is cancelled) stops the node as well.
        try? await gracefulShutdown()
        // In a task of its own so that a cancelled caller cannot cut the flush and close short.
        await Task { await node.stop() }.value
    }
}

/// The HTTP server as a `Service`: `run` waits until the node serves, starts the server, waits
/// for graceful shutdown and stops it, letting requests in progress finish for `gracePeriod`.
/// A shutdown while the node is still starting ends it before the server ever listens.
struct HTTPLifecycle: Service, CustomStringConvertible {
    let server: HTTPServer
    let nodeStarted: AsyncThrowingStream<Void, any Error>
    let gracePeriod: Duration
    let logger: Logger
    let readyMetadata: Logger.Metadata

    var description: String { "HTTP server" }

    func run() async throws {
        let nodeStarted = self.nodeStarted
        // `nil` from the stream: the wait was cancelled by a graceful shutdown.
        let nodeIsUp = try await cancelWhenGracefulShutdown {
            var events = nodeStarted.makeAsyncIterator()
            return try await events.next() != nil
        }
        guard nodeIsUp else { return }
        try await server.start()
        logger.info("cairnd ready", metadata: readyMetadata)
        try? await gracefulShutdown()
        logger.info("stopping")
        await server.stop(gracePeriod: gracePeriod)
    }
}

/// The Redis protocol server as a `Service`, run like `HTTPLifecycle`: it listens once the node
/// serves, and on graceful shutdown finishes the commands in progress for up to `gracePeriod`.
struct RESPLifecycle: Service, CustomStringConvertible {
    let server: RESPServer
    let nodeStarted: AsyncThrowingStream<Void, any Error>
    let gracePeriod: Duration
    let logger: Logger

    var description: String { "RESP server" }

    func run() async throws {
        let nodeStarted = self.nodeStarted
        let nodeIsUp = try await cancelWhenGracefulShutdown {
            var events = nodeStarted.makeAsyncIterator()
            return try await events.next() != nil
        }
        guard nodeIsUp else { return }
        let address = try await server.start()
        logger.info("RESP listening", metadata: ["cairn.resp": "\(address.ipAddress ?? "?"):\(address.port ?? 0)"])
        try? await gracefulShutdown()
        await server.stop(gracePeriod: gracePeriod)
    }
}
