import CairnHTTP
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The node's Redis protocol server: a NIOPosix listener, one `RESPChannelHandler` per
/// connection, answering from the same `KeyValueService` as the HTTP API (docs/resp.md).
///
/// Pipelining is supported (answers leave in command order); every malformed, oversized or
/// unknown command gets an `-ERR` answer and the connection goes on; at most
/// `Configuration.maxConnections` connections are open at once. `stop` shuts down gracefully:
/// it stops accepting, lets each connection finish the command in progress, and closes
/// whatever is left after the grace period.
public final class RESPServer: Sendable {
    /// Why `start` failed, besides errors from binding.
    public typealias StateError = ListenerLifecycle.StateError

    private let service: any KeyValueService
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let listener = ListenerLifecycle()
    /// Connection counts, ids and scan cursors, shared by the connections.
    public let state: RESPServerState

    /// A server for `service`; nothing listens until `start`.
    public init(
        service: any KeyValueService, configuration: Configuration = Configuration(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.service = service
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.state = RESPServerState(
            maxConnections: configuration.maxConnections, cursors: RESPScanCursors(capacity: configuration.scanCursors))
    }

    /// The address the server listens on while it runs (with the actual port when the
    /// configuration asked for port 0).
    public var localAddress: SocketAddress? { listener.localAddress }

    /// Binds and starts accepting connections; returns the bound address. A server starts once.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try await listener.start { try await bootstrap().bind(host: configuration.host, port: configuration.port).get() }
    }

    /// Stops accepting, asks every connection to close once its current command is answered
    /// (`ChannelShouldQuiesceEvent`), and closes the ones still open after `gracePeriod`.
    /// Returns when every connection is closed. Calling it again, or before `start`, does nothing.
    public func stop(gracePeriod: Duration = .seconds(5)) async {
        await listener.stop(gracePeriod: gracePeriod, on: group.any())
    }

    private func bootstrap() -> ServerBootstrap {
        let service = self.service
        let configuration = self.configuration
        let state = self.state
        let logger = self.logger
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(
                .writeBufferWaterMark,
                value: ChannelOptions.Types.WriteBufferWaterMark(
                    low: configuration.outboundHighWaterBytes / 2, high: configuration.outboundHighWaterBytes))
            .childChannelInitializer { [weak self] channel in
                guard let self, self.listener.register(channel) else {
                    return channel.close()
                }
                guard let id = state.openConnection() else {
                    logger.debug("RESP connection refused: the server has its limit of connections open",
                                 metadata: ["cairn.limit": "\(configuration.maxConnections)"])
                    return channel.eventLoop.makeCompletedFuture {
                        if let tls = configuration.tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try channel.pipeline.syncOperations.addHandler(RefusingHandler())
                    }
                }
                channel.closeFuture.whenComplete { _ in state.closeConnection() }
                return channel.eventLoop.makeCompletedFuture {
                    let executor = RESPExecutor(
                        service: service, limits: configuration.limits, server: state,
                        address: Self.text(channel.localAddress) ?? "\(configuration.host):\(configuration.port)", auth: configuration.auth)
                    let session = RESPSession(id: id, peer: Self.text(channel.remoteAddress) ?? "")
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.stallTimeout)))
                    try pipeline.addHandler(
                        RESPChannelHandler(
                            executor: executor, session: session, stallTimeout: TimeAmount(configuration.stallTimeout),
                            allocator: channel.allocator))
                }
            }
    }

    /// `host:port` of an IP address.
    static func text(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// The whole pipeline of a connection beyond the cap (behind the TLS handler on a TLS port): it
/// answers the one error Redis sends past `maxclients` as soon as the connection is up (the
/// TLS handshake done), then closes it; at the latest after 10 s.
private final class RefusingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let refusal = RESPValue.error(RESPError("max number of clients reached")).encoded()
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: refusal)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
