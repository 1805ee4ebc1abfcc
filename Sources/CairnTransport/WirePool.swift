import CairnCore
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// This node's outgoing links, one `WirePeer` per peer address, created on first use.
///
/// Every outgoing socket is bound to the host of this node's listen address (port 0), so a
/// peer sees the connection come from the address membership knows this node by, and
/// address-based firewall rules cut exactly the links they name.
public final class WirePool: Sendable {
    public let identity: WireIdentity
    /// This node's `host:port`, as its hellos announce it.
    public let listenAddress: String
    public let settings: WireSettings
    private let group: any EventLoopGroup
    private let logger: Logger
    private let localBind: SocketAddress?
    /// The peers by address; `nil` once shut down.
    private let peers = NIOLockedValueBox<[String: WirePeer]?>([:])

    /// - Parameters:
    ///   - listenAddress: this node's `host:port` (usually `WireServer.listenAddress`).
    ///   - bindOutgoing: bind outgoing sockets to the listen host (the default; turn off only
    ///     for a wildcard listen host, where it would mean nothing).
    public init(
        identity: WireIdentity, listenAddress: String, settings: WireSettings = WireSettings(), group: any EventLoopGroup,
        bindOutgoing: Bool = true, logger: Logger
    ) throws(TransportError) {
        guard let parsed = WireAddress(listenAddress) else {
            throw TransportError(.badAddress, peer: listenAddress, "listen address is not host:port")
        }
        self.identity = identity
        self.listenAddress = listenAddress
        self.settings = settings
        self.group = group
        self.logger = logger
        self.localBind = bindOutgoing ? try WireAddress(host: parsed.host, port: 0).socketAddress(peer: listenAddress) : nil
    }

    /// The link to the peer listening at `address` (`host:port`), created on first use. The
    /// address is resolved once, here.
    public func peer(_ address: String) throws(TransportError) -> WirePeer {
        if let existing = peers.withLockedValue({ $0?[address] }) { return existing }
        guard let parsed = WireAddress(address) else {
            throw TransportError(.badAddress, peer: address, "peer address is not host:port")
        }
        let remote = try parsed.socketAddress(peer: address)
        let created = WirePeer(
            address: address, remote: remote, localBind: localBind, eventLoop: group.next(),
            handshake: identity.handshake(listenAddress: listenAddress), tls: identity.tls, settings: settings, logger: logger)
        let peer = peers.withLockedValue { peers -> WirePeer? in
            guard peers != nil else { return nil }
            if let raced = peers?[address] { return raced }
            peers?[address] = created
            return created
        }
        guard let peer else { throw TransportError(.shutdown, peer: address, "the transport is shutting down") }
        return peer
    }

    /// Sends a request to the peer at `address` and waits for its answer.
    public func request(_ message: WireMessage, to address: String, timeout: Duration? = nil) async throws(TransportError) -> WireMessage {
        try await peer(address).request(message, timeout: timeout)
    }

    /// Queues a one-way message to the peer at `address`.
    public func send(_ message: WireMessage, to address: String) async throws(TransportError) {
        try await peer(address).send(message)
    }

    /// `request` without a task (see `WirePeer.request(_:timeout:completion:)`); an address
    /// that does not parse or a pool shut down completes with the failure, on the pool's loop.
    public func request(
        _ message: WireMessage, to address: String, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<WireMessage, TransportError>) -> Void
    ) {
        do {
            try peer(address).request(message, timeout: timeout, completion: completion)
        } catch {
            group.any().execute { completion(.failure(error)) }
        }
    }

    /// Queues a one-way message to the peer at `address`, ignoring a refusal (`WirePeer.post`).
    public func post(_ message: WireMessage, to address: String) {
        try? peer(address).post(message)
    }

    /// Shuts every peer down; later calls fail with `.shutdown`.
    public func shutdown() async {
        let all = peers.withLockedValue { peers in
            defer { peers = nil }
            return peers.map { Array($0.values) } ?? []
        }
        for peer in all { await peer.shutdown() }
    }
}
