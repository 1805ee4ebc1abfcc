import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The node's HTTP API server: NIOHTTP1 over a NIOPosix listener, one `APIChannelHandler` per
/// connection, answering from a `KeyValueService`.
///
/// Keep-alive and pipelining are supported (responses leave in request order); bodies are read
/// into a buffer bounded by `APILimits`; every malformed request gets a 4xx with a JSON error
/// body and the server stays up. `stop` shuts down gracefully: it stops accepting, lets each
/// connection finish the request in progress, and closes whatever is left after the grace
/// period. At most `Configuration.maxInFlight` data requests are served at once across all
/// connections; the one beyond is answered `503 overloaded` (`InFlightLimit`).
public final class HTTPServer: Sendable {
    private enum State {
        case idle
        case starting
        case running(serverChannel: any Channel)
        case stopped
    }

    private struct Shared {
        var state: State = .idle
        /// Open connections, to quiesce on `stop`.
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    /// Why `start` failed, besides errors from binding.
    public struct StateError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    private let service: any KeyValueService
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let shared = Mutex(Shared())
    private let inFlightLimit: InFlightLimit

    /// A server for `service`; nothing listens until `start`.
    public init(
        service: any KeyValueService, configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(service.replicationFactor >= 1, "replication factor must be at least 1, got \(service.replicationFactor)")
        self.service = service
        self.configuration = configuration
        self.group = group
        self.inFlightLimit = InFlightLimit(limit: configuration.maxInFlight)
    }

    /// Data requests being served now (at most `Configuration.maxInFlight`).
    public var requestsInFlight: Int { inFlightLimit.current }

    /// The address the server listens on while it runs (with the actual port when the
    /// configuration asked for port 0).
    public var localAddress: SocketAddress? {
        shared.withLock { shared in
            if case .running(let channel) = shared.state { return channel.localAddress }
            return nil
        }
    }

    /// Binds and starts accepting connections; returns the bound address. A server starts once.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try shared.withLock { shared throws(StateError) in
            guard case .idle = shared.state else { throw StateError(description: "the server was already started") }
            shared.state = .starting
        }
        let channel: any Channel
        do {
            channel = try await bootstrap().bind(host: configuration.host, port: configuration.port).get()
        } catch {
            shared.withLock { $0.state = .stopped }
            throw error
        }
        shared.withLock { $0.state = .running(serverChannel: channel) }
        guard let address = channel.localAddress else {
            await stop()
            throw StateError(description: "the listening socket has no local address")
        }
        return address
    }

    /// Stops accepting, asks every connection to close once its current request is answered
    /// (`ChannelShouldQuiesceEvent`), and closes the ones still open after `gracePeriod`.
    /// Returns when every connection is closed. Calling it again, or before `start`, does nothing.
    public func stop(gracePeriod: Duration = .seconds(5)) async {
        let serverChannel: (any Channel)? = shared.withLock { shared in
            defer { shared.state = .stopped }
            if case .running(let channel) = shared.state { return channel }
            return nil
        }
        // Only the call that stopped a running server quiesces: a connection must be asked once.
        guard let serverChannel else { return }
        try? await serverChannel.close()
        let connections = shared.withLock { Array($0.connections.values) }
        guard !connections.isEmpty else { return }
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let eventLoop = group.any()
        let forceClose = eventLoop.scheduleTask(in: TimeAmount(gracePeriod)) {
            for connection in connections { connection.close(promise: nil) }
        }
        let allClosed = EventLoopFuture.andAllComplete(connections.map(\.closeFuture), on: eventLoop)
        try? await allClosed.get()
        forceClose.cancel()
    }

    private func bootstrap() -> ServerBootstrap {
        let service = self.service
        let configuration = self.configuration
        let inFlightLimit = self.inFlightLimit
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                guard let self, self.register(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
                    try pipeline.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withErrorHandling: false,
                        withOutboundHeaderValidation: true,
                        withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
                        withDecoderLimitConfiguration: configuration.decoderLimits)
                    try pipeline.addHandler(
                        APIChannelHandler(
                            service: service, limits: configuration.limits,
                            lingerTimeout: TimeAmount(configuration.lingerTimeout), inFlightLimit: inFlightLimit))
                }
            }
    }

    /// Tracks `channel` until it closes; refuses it once the server is stopping.
    private func register(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = shared.withLock { shared in
            switch shared.state {
            case .starting, .running:
                shared.connections[id] = channel
                return true
            case .idle, .stopped:
                return false
            }
        }
        guard accepted else { return false }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.shared.withLock { $0.connections.removeValue(forKey: id) }
        }
        return true
    }
}
