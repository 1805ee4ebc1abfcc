import CairnCore
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The outgoing side of this node's link to one peer: a lazily opened, self-healing connection
/// with many requests in flight at once, matched to their answers by request id.
///
/// - The connection opens on the first request, from a socket bound to this node's own listen
///   host (port 0), so firewall rules written on addresses (an nft partition between
///   127.0.0.1 and 127.0.0.2) cut exactly the links they name.
/// - Every request has its own timeout; when it fires only that request fails.
/// - Requests awaiting an answer and bytes not yet written are bounded per peer; past either
///   bound a request fails at once with `.overloaded` rather than being buffered. While the
///   socket is unwritable, requests wait in that bounded queue.
/// - A broken connection fails the requests written on it (`.connectionClosed`); the next
///   request reconnects. A failed connection attempt fails what waited for it and starts a retry
///   delay that doubles per failure (with jitter, capped); requests during the delay fail at
///   once with `.unreachable`.
///
/// All mutable state lives on one event loop (`eventLoop`); public methods hop onto it. That
/// confinement is what the `@unchecked Sendable` stands for.
public final class WirePeer: @unchecked Sendable {
    /// The peer's `host:port`.
    public let address: String
    public let eventLoop: any EventLoop
    let remote: SocketAddress
    let localBind: SocketAddress?
    let handshake: Handshake.Configuration
    /// Mutual TLS around the connection, when the node has certificates.
    let tls: WireTLS?
    let settings: WireSettings
    let logger: Logger
    private let requestIDs = NIOLockedValueBox<UInt64>(0)

    // MARK: loop-confined state

    enum State {
        case idle
        case connecting
        case connected(any Channel, Handshake.Peer)
        /// No new attempt before `until`; requests fail fast with `error`.
        case waitingToRetry(until: NIODeadline, error: TransportError)
        case shutDown
    }

    struct Pending {
        var promise: EventLoopPromise<Frame>
        var timer: Scheduled<Void>?
        /// The channel it was written on; nil while queued.
        var writtenOn: ObjectIdentifier?
    }

    struct Outgoing {
        /// 0 for a one-way message.
        var requestID: UInt64
        var frame: Frame
        var bytes: Int
    }

    var state: State = .idle
    var pending: [UInt64: Pending] = [:]
    var queue = CircularBuffer<Outgoing>()
    /// One-way messages in `queue` (they count against `maxOutstandingRequests` until written).
    var queuedOneWays = 0
    /// Bytes queued plus bytes handed to the channel whose write has not completed.
    var unwrittenBytes = 0
    var consecutiveFailures = 0
    /// Answers that arrived after their request timed out or was cancelled.
    var lateAnswers = 0
    /// A flush of the connection is queued on the loop (`append`), so frames queued in one
    /// turn of the loop leave in one write.
    var flushScheduled = false

    init(
        address: String, remote: SocketAddress, localBind: SocketAddress?, eventLoop: any EventLoop,
        handshake: Handshake.Configuration, tls: WireTLS?, settings: WireSettings, logger: Logger
    ) {
        self.address = address
        self.tls = tls
        self.remote = remote
        self.localBind = localBind
        self.eventLoop = eventLoop
        self.handshake = handshake
        self.settings = settings
        var logger = logger
        logger[metadataKey: "cairn.peer"] = "\(address)"
        self.logger = logger
    }

    // MARK: public API

    /// Sends `message` (a request) and waits for its answer, at most `timeout` (default
    /// `settings.defaultRequestTimeout`). An error frame from the peer is `.remote`.
    public func request(_ message: WireMessage, timeout: Duration? = nil) async throws(TransportError) -> WireMessage {
        let (id, answer) = begin(message, timeout: timeout)
        let frame: Frame
        do {
            frame = try await withTaskCancellationHandler {
                try await answer.get()
            } onCancel: {
                self.eventLoop.execute {
                    self.complete(id, with: .failure(TransportError(.cancelled, peer: self.address, "request \(id) cancelled")))
                }
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.connectionClosed, peer: address, "\(error)")
        }
        return try decode(frame)
    }

    /// `request` without a task, for callers on an event loop: `completion` runs once, on this
    /// peer's event loop, with the answer or the failure; never before this call returns.
    public func request(
        _ message: WireMessage, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<WireMessage, TransportError>) -> Void
    ) {
        begin(message, timeout: timeout).answer.whenComplete { result in
            switch result {
            case .success(let frame):
                completion(Result { () throws(TransportError) in try self.decode(frame) })
            case .failure(let error as TransportError):
                completion(.failure(error))
            case .failure(let error):
                completion(.failure(TransportError(.connectionClosed, peer: self.address, "\(error)")))
            }
        }
    }

    /// Queues a request on the loop; the future completes there (never inline in this call).
    private func begin(_ message: WireMessage, timeout: Duration?) -> (id: UInt64, answer: EventLoopFuture<Frame>) {
        precondition(message.role == .request, "request() needs a request message, got \(message.messageType)")
        let id = requestIDs.withLockedValue { id in
            id += 1
            return id
        }
        let frame = message.frame(requestID: id)
        let promise = eventLoop.makePromise(of: Frame.self)
        let timeAmount = TimeAmount(timeout ?? settings.defaultRequestTimeout)
        let maxFrameBytes = settings.limits.maxFrameBytes
        eventLoop.execute {
            guard frame.lengthFieldValue <= maxFrameBytes else {
                promise.fail(TransportError(
                    .tooLarge, peer: self.address, "request of \(frame.lengthFieldValue) bytes exceeds the frame limit \(maxFrameBytes)"))
                return
            }
            self.enqueue(Outgoing(requestID: id, frame: frame, bytes: frame.wireBytes), promise: promise, timeout: timeAmount)
        }
        return (id, promise.futureResult)
    }

    /// Queues a one-way message. Returns once it is queued (not written); fails at once when
    /// the peer is overloaded, unreachable or shut down.
    public func send(_ message: WireMessage) async throws(TransportError) {
        precondition(message.role == .oneWay, "send() needs a one-way message, got \(message.messageType)")
        let frame = message.frame(requestID: 0)
        guard frame.lengthFieldValue <= settings.limits.maxFrameBytes else {
            throw TransportError(.tooLarge, peer: address, "message of \(frame.lengthFieldValue) bytes exceeds the frame limit \(settings.limits.maxFrameBytes)")
        }
        let accepted = eventLoop.makePromise(of: Void.self)
        eventLoop.execute {
            if let error = self.refusal(forBytes: frame.wireBytes) {
                accepted.fail(error)
                return
            }
            self.queuedOneWays += 1
            self.append(Outgoing(requestID: 0, frame: frame, bytes: frame.wireBytes))
            accepted.succeed()
        }
        do {
            try await accepted.futureResult.get()
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.connectionClosed, peer: address, "\(error)")
        }
    }

    /// Queues a one-way message without waiting to learn whether it was taken: for callers
    /// that would ignore the refusal anyway (gossip, read repair; a lost one is covered by the
    /// next round or by anti-entropy).
    public func post(_ message: WireMessage) {
        precondition(message.role == .oneWay, "post() needs a one-way message, got \(message.messageType)")
        let frame = message.frame(requestID: 0)
        guard frame.lengthFieldValue <= settings.limits.maxFrameBytes else { return }
        eventLoop.execute {
            guard self.refusal(forBytes: frame.wireBytes) == nil else { return }
            self.queuedOneWays += 1
            self.append(Outgoing(requestID: 0, frame: frame, bytes: frame.wireBytes))
        }
    }

    /// The local address of the current connection (nil when not connected).
    public func connectionLocalAddress() async -> SocketAddress? {
        try? await eventLoop.submit { () -> SocketAddress? in
            if case .connected(let channel, _) = self.state { return channel.localAddress }
            return nil
        }.get()
    }

    /// The peer as its handshake described it (nil when not connected).
    public func connectedPeer() async -> Handshake.Peer? {
        try? await eventLoop.submit { () -> Handshake.Peer? in
            if case .connected(_, let peer) = self.state { return peer }
            return nil
        }.get()
    }

    /// Fails everything outstanding with `.shutdown`, closes the connection; later calls fail.
    public func shutdown() async {
        let closed: EventLoopFuture<Void> = eventLoop.flatSubmit {
            let previous = self.state
            self.state = .shutDown
            self.failAll(TransportError(.shutdown, peer: self.address, "the transport is shutting down"), onlyWritten: false)
            if case .connected(let channel, _) = previous { return channel.close().recover { _ in } }
            return self.eventLoop.makeSucceededVoidFuture()
        }
        try? await closed.get()
    }

    // MARK: decoding answers

    private func decode(_ frame: Frame) throws(TransportError) -> WireMessage {
        switch frame.kind {
        case .error:
            do {
                let reply = try ErrorReply(decoding: frame.payload, limits: settings.limits)
                throw TransportError(.remote, peer: address, "the peer answered with an error", remote: reply)
            } catch let error as TransportError {
                throw error
            } catch {
                throw TransportError(.badResponse, peer: address, "error frame does not decode: \(error)")
            }
        default:
            do {
                return try WireMessage(frame: frame, limits: settings.limits)
            } catch {
                throw TransportError(.badResponse, peer: address, "answer does not decode: \(error)")
            }
        }
    }
}
