import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

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
    /// Why `start` failed, besides errors from binding.
    public typealias StateError = ListenerLifecycle.StateError

    private let service: any KeyValueService
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let listener = ListenerLifecycle()
    private let inFlightLimit: InFlightLimit
    private let bounds: ConnectionBounds

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
        self.bounds = ConnectionBounds(maxConnections: configuration.maxConnections, maxBodyBytes: configuration.maxBodyBytesInMemory)
    }

    /// Connections open now (at most `Configuration.maxConnections`).
    public var connectionsOpen: Int { bounds.connections }

    /// Bytes of request bodies held in memory now (at most `Configuration.maxBodyBytesInMemory`).
    public var bodyBytesInMemory: Int { bounds.bodyBytes }

    /// Data requests being served now (at most `Configuration.maxInFlight`).
    public var requestsInFlight: Int { inFlightLimit.current }

    /// The address the server listens on while it runs (with the actual port when the
    /// configuration asked for port 0).
    public var localAddress: SocketAddress? { listener.localAddress }

    /// Binds and starts accepting connections; returns the bound address. A server starts once.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try await listener.start { try await bootstrap().bind(host: configuration.host, port: configuration.port).get() }
    }

    /// Stops accepting, asks every connection to close once its current request is answered
    /// (`ChannelShouldQuiesceEvent`), and closes the ones still open after `gracePeriod`.
    /// Returns when every connection is closed. Calling it again, or before `start`, does nothing.
    public func stop(gracePeriod: Duration = .seconds(5)) async {
        await listener.stop(gracePeriod: gracePeriod, on: group.any())
    }

    private func bootstrap() -> ServerBootstrap {
        let service = self.service
        let configuration = self.configuration
        let inFlightLimit = self.inFlightLimit
        let bounds = self.bounds
        let queued = max(configuration.maxQueuedResponseBytes, 2)
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: queued / 2, high: queued))
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                guard bounds.openConnection() else {
                    // Past the limit: the whole answer, then close, before reading anything
                    // (but the TLS handshake the answer needs).
                    return channel.eventLoop.makeCompletedFuture {
                        if let tls = configuration.tls {
                            try channel.pipeline.syncOperations.addHandler(TLSSniffer())
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionRefuser(answer: bounds.refusal, behindTLS: configuration.tls != nil))
                    }
                }
                channel.closeFuture.whenComplete { _ in bounds.closeConnection() }
                guard self.listener.register(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let phase = RequestPhase()
                    if let tls = configuration.tls {
                        try pipeline.addHandler(TLSSniffer())
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try pipeline.addHandler(WritabilityGate())
                    try pipeline.addHandler(RequestClock(
                        phase: phase, headerTimeout: TimeAmount(configuration.headerTimeout),
                        bodyGracePeriod: TimeAmount(configuration.bodyGracePeriod), minBodyBytesPerSecond: configuration.minBodyBytesPerSecond))
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
                            lingerTimeout: TimeAmount(configuration.lingerTimeout), inFlightLimit: inFlightLimit,
                            bounds: bounds, phase: phase, auth: configuration.auth))
                }
            }
    }
}
