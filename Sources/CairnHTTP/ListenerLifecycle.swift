import NIOCore
import Synchronization

/// What a node's servers (the HTTP API, the Redis protocol) share around their listener: a
/// server starts once, tracks its open connections, refuses new ones once it is stopping, and
/// stops gracefully — it stops accepting, asks every connection to close once its current
/// request is answered (`ChannelShouldQuiesceEvent`), and closes the ones still open after a
/// grace period.
public final class ListenerLifecycle: Sendable {
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

    private let shared = Mutex(Shared())

    public init() {}

    /// The address the listener is bound to while it runs.
    public var localAddress: SocketAddress? {
        shared.withLock { shared in
            if case .running(let channel) = shared.state { return channel.localAddress }
            return nil
        }
    }

    /// Binds with `bind` and starts accepting; returns the bound address. A server starts once.
    public func start(bind: () async throws -> any Channel) async throws -> SocketAddress {
        try shared.withLock { shared throws(StateError) in
            guard case .idle = shared.state else { throw StateError(description: "the server was already started") }
            shared.state = .starting
        }
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            shared.withLock { $0.state = .stopped }
            throw error
        }
        shared.withLock { $0.state = .running(serverChannel: channel) }
        guard let address = channel.localAddress else {
            await stop(gracePeriod: .zero, on: channel.eventLoop)
            throw StateError(description: "the listening socket has no local address")
        }
        return address
    }

    /// Stops accepting, quiesces every open connection and closes those still open after
    /// `gracePeriod`. Returns when every connection is closed. Calling it again, or before the
    /// server started, does nothing.
    public func stop(gracePeriod: Duration, on eventLoop: any EventLoop) async {
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
        let forceClose = eventLoop.scheduleTask(in: TimeAmount(gracePeriod)) {
            for connection in connections { connection.close(promise: nil) }
        }
        let allClosed = EventLoopFuture.andAllComplete(connections.map(\.closeFuture), on: eventLoop)
        try? await allClosed.get()
        forceClose.cancel()
    }

    /// Tracks `channel` until it closes; refuses it (false) once the server is stopping.
    public func register(_ channel: any Channel) -> Bool {
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
