import NIOCore
import NIOHTTP1
import Synchronization

/// What the server bounds across its connections: how many are open, and the request bodies
/// they hold in memory (docs/security.md, "Bounded HTTP").
final class ConnectionBounds: Sendable {
    let maxConnections: Int
    let maxBodyBytes: Int
    private let counts = Mutex<(connections: Int, bodyBytes: Int)>((0, 0))

    init(maxConnections: Int, maxBodyBytes: Int) {
        self.maxConnections = maxConnections
        self.maxBodyBytes = maxBodyBytes
    }

    /// Takes a connection slot; false when every slot is taken.
    func openConnection() -> Bool {
        counts.withLock { counts in
            guard counts.connections < maxConnections else { return false }
            counts.connections += 1
            return true
        }
    }

    func closeConnection() { counts.withLock { $0.connections -= 1 } }

    var connections: Int { counts.withLock { $0.connections } }
    var bodyBytes: Int { counts.withLock { $0.bodyBytes } }

    /// Takes `bytes` of the body budget; false (taking nothing) when it would pass the budget.
    func takeBody(_ bytes: Int) -> Bool {
        counts.withLock { counts in
            guard counts.bodyBytes + bytes <= maxBodyBytes else { return false }
            counts.bodyBytes += bytes
            return true
        }
    }

    func releaseBody(_ bytes: Int) {
        guard bytes > 0 else { return }
        counts.withLock { $0.bodyBytes -= bytes }
    }

    /// The whole answer to a connection past the limit, written before any byte of it is read.
    var refusal: ByteBuffer {
        let body = #"{"error":{"code":"overloaded","message":"the node has its limit of \#(maxConnections) connections open; retry later","detail":{"limit":\#(maxConnections),"retry_after_seconds":1}}}"#
        let head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        return ByteBuffer(string: head + body)
    }
}

/// The only handler of a connection past the limit: writes the refusal, then closes. Over
/// plain TCP it answers as soon as the connection is active and reads nothing. Behind the TLS
/// handler it lets the handshake through and answers the first request bytes (a client that
/// has sent its request is reading; one answered before it writes would see its write fail
/// on the closed socket instead of the answer); a connection that sends nothing within
/// `handshakeTimeout` is cut.
final class ConnectionRefuser: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: ByteBuffer
    private let behindTLS: Bool
    private var answered = false

    init(answer: ByteBuffer, behindTLS: Bool = false) {
        self.answer = answer
        self.behindTLS = behindTLS
    }

    static let handshakeTimeout = TimeAmount.seconds(10)

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func read(context: ChannelHandlerContext) {
        if behindTLS && !answered { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if behindTLS { refuse(context: context) }
    }

    private func start(context: ChannelHandlerContext) {
        guard behindTLS else { return refuse(context: context) }
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.handshakeTimeout) { channel.close(promise: nil) }
    }

    private func refuse(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(wrapOutboundOut(answer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// The first handler of a connection: stops reading while the connection's outbound buffer is
/// above its high water mark (the client is not reading its answers), and resumes once it has
/// drained. Without it, a client that pipelines requests and never reads would make the server
/// answer them all into memory.
final class WritabilityGate: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private var readPending = false

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }
}

/// Where a connection's current request is, for its deadlines: the `RequestClock` at the front
/// of the pipeline sees bytes arrive, the `APIChannelHandler` sees the request's parts.
final class RequestPhase {
    enum Phase {
        /// Between requests (the idle timeout applies).
        case idle
        /// Bytes of a request arrived; its headers are not complete.
        case head(since: NIODeadline)
        /// The headers are in; the body is arriving.
        case body(since: NIODeadline, bytes: Int)
        /// The request is complete: the service is working on it, or its answer is being sent.
        case serving
    }

    var phase: Phase = .idle
}

/// Bounds how long a request may take to arrive: its headers within `headerTimeout` of its
/// first byte, its body at `minBodyBytesPerSecond` on average once `bodyGracePeriod` has passed.
/// A request past its deadline is answered `408` and its connection closed: by this handler,
/// straight to the socket, while its head is incomplete (the HTTP handlers have no request to
/// answer), and by the `APIChannelHandler` once the body is arriving (it gets
/// `RequestTimedOut`). Checked once a second, and only while a request is arriving.
final class RequestClock: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The event the `APIChannelHandler` acts on.
    struct RequestTimedOut: Sendable {
        var message: String
    }

    private let phase: RequestPhase
    private let headerTimeout: TimeAmount
    private let bodyGracePeriod: TimeAmount
    private let minBodyBytesPerSecond: Int
    private var timer: Scheduled<Void>?

    init(phase: RequestPhase, headerTimeout: TimeAmount, bodyGracePeriod: TimeAmount, minBodyBytesPerSecond: Int) {
        self.phase = phase
        self.headerTimeout = headerTimeout
        self.bodyGracePeriod = bodyGracePeriod
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = phase.phase {
            phase.phase = .head(since: .now())
        }
        armTimer(context: context)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            self.timer = nil
            self.check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        switch phase.phase {
        case .idle, .serving:
            return
        case .head(let since):
            if now - since > headerTimeout {
                // No request head has reached the HTTP handlers, so no response may pass them:
                // the answer goes from here, straight to the socket, and the connection closes.
                let message = "the request's headers did not arrive within \(headerTimeout.nanoseconds / 1_000_000_000) s"
                let body = #"{"error":{"code":"request_timeout","message":"\#(message)"}}"#
                let head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                phase.phase = .serving
                context.writeAndFlush(NIOAny(ByteBuffer(string: head + body))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            }
        case .body(let since, let bytes):
            let elapsed = now - since
            if elapsed > bodyGracePeriod {
                let seconds = max(1, elapsed.nanoseconds / 1_000_000_000)
                if Int64(bytes) / seconds < Int64(minBodyBytesPerSecond) {
                    context.fireUserInboundEventTriggered(RequestTimedOut(
                        message: "the request's body arrived at \(Int64(bytes) / seconds) bytes/s, below \(minBodyBytesPerSecond)"))
                    return
                }
            }
        }
        armTimer(context: context)
    }
}
