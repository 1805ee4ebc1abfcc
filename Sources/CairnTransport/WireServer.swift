import CairnCore
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The internode listener: accepts connections, runs the handshake as acceptor, and hands each
/// request of an established peer to the node's `WireRequestHandler`.
///
/// A connection that breaks the protocol (oversized frame, bad header, a frame that does not
/// belong) is closed on its own; the listener and every other connection keep serving.
public final class WireServer: Sendable {
    /// `host:port` this server listens on (the port the OS chose when started with port 0).
    public let listenAddress: String
    public let identity: WireIdentity
    public let settings: WireSettings
    private let channel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
    private let logger: Logger

    private init(
        listenAddress: String, identity: WireIdentity, settings: WireSettings, channel: any Channel,
        connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>, logger: Logger
    ) {
        self.listenAddress = listenAddress
        self.identity = identity
        self.settings = settings
        self.channel = channel
        self.connections = connections
        self.logger = logger
    }

    /// Binds `host:port` (port 0: the OS picks one) and starts accepting.
    public static func start(
        host: String, port: Int, identity: WireIdentity, settings: WireSettings = WireSettings(),
        group: any EventLoopGroup, handler: any WireRequestHandler, logger: Logger
    ) async throws(TransportError) -> WireServer {
        let label = WireAddress(host: host, port: port).description
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        // The listen address goes into every hello, and is only known once bound (port 0).
        let listenAddress = NIOLockedValueBox<String>(label)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(
                low: settings.writeBufferLowWaterMark, high: settings.writeBufferHighWaterMark))
            .childChannelInitializer { child in
                let peerLabel = child.remoteAddress?.wireDescription ?? "?"
                let id = ObjectIdentifier(child)
                connections.withLockedValue { $0[id] = child }
                child.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: id) } }
                let established = child.eventLoop.makePromise(of: Handshake.Peer.self)
                established.futureResult.whenSuccess { peer in
                    logger.debug("internode peer connected", metadata: ["cairn.peer": "\(peerLabel)", "cairn.node": "\(peer.node)"])
                }
                return child.eventLoop.makeCompletedFuture {
                    let decoder = FrameDecoder(maxFrameBytes: settings.limits.maxFrameBytes)
                    if let tls = identity.tls { try child.pipeline.syncOperations.addHandler(tls.serverHandler()) }
                    try child.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(decoder, maximumBufferSize: decoder.maximumBufferSize),
                        MessageToByteHandler(FrameEncoder(maxFrameBytes: settings.limits.maxFrameBytes)),
                        HandshakeHandler(
                            role: .acceptor, configuration: identity.handshake(listenAddress: listenAddress.withLockedValue { $0 }),
                            limits: settings.limits, timeout: settings.handshakeTimeout, established: established,
                            peerLabel: peerLabel, logger: logger),
                        ServerConnectionHandler(handler: handler, settings: settings, peerLabel: peerLabel, logger: logger),
                    ])
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw TransportError(.bindFailed, peer: label, "cannot listen on \(label): \(error)")
        }
        let bound = WireAddress(host: host, port: channel.localAddress?.port ?? port).description
        listenAddress.withLockedValue { $0 = bound }
        logger.info("internode listener started", metadata: ["cairn.listen": "\(bound)"])
        return WireServer(
            listenAddress: bound, identity: identity, settings: settings, channel: channel, connections: connections,
            logger: logger)
    }

    /// Connections accepted and not yet closed (handshaking or established).
    public var connectionCount: Int { connections.withLockedValue { $0.count } }

    /// Stops accepting and closes every connection. Requests in progress lose their answers.
    public func shutdown() async {
        try? await channel.close()
        let open = connections.withLockedValue { Array($0.values) }
        for connection in open { try? await connection.close() }
        logger.info("internode listener stopped", metadata: ["cairn.listen": "\(listenAddress)"])
    }
}
