import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 connection to a node: NIOHTTP1's request encoder and response decoder, then a
/// `ResponseCollector`. It carries one exchange at a time; `CairnClient` keeps idle ones for
/// reuse.
final class HTTPConnection: Sendable {
    let channel: any Channel
    private let node: String

    private init(channel: any Channel, node: String) {
        self.channel = channel
        self.node = node
    }

    /// Opens a connection to `address`, or throws `unreachable` with a reason a person can
    /// act on ("connection refused", "connection timed out after 2 s", …).
    static func connect(
        to address: NodeAddress, from sourceAddress: String? = nil, group: any EventLoopGroup, connectTimeout: Duration,
        maxResponseBytes: Int, maxHeaderBytes: Int, tls: NIOSSLContext? = nil
    ) async throws -> HTTPConnection {
        let decoderLimits = limits(maxHeaderBytes: maxHeaderBytes)
        // Completed by the TLS handshake (nil without TLS); failed on every way out but success.
        let handshake = tls == nil ? nil : group.any().makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls, let handshake {
                        // A DNS name goes out as SNI and is checked against the certificate; an
                        // IP address is checked against the certificate's IP addresses.
                        try pipeline.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: address.isIPAddress ? nil : address.host))
                        try pipeline.addHandler(TLSHandshakeWaiter(done: handshake))
                    }
                    try pipeline.addHandler(HTTPRequestEncoder())
                    try pipeline.addHandler(
                        ByteToMessageHandler(
                            HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)))
                    try pipeline.addHandler(ResponseCollector(maxBodyBytes: maxResponseBytes))
                }
            }
        do {
            if let sourceAddress {
                // Port 0: any free port on that address (chaos clients leave from 127.0.0.100).
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0))
            }
            let channel = try await bootstrap.connect(host: address.host, port: address.port).get()
            if let handshake {
                // Wait for the handshake, so a refused certificate is reported as such, bounded
                // by what is left of the connect timeout.
                let timeout = channel.eventLoop.scheduleTask(in: TimeAmount(connectTimeout)) {
                    handshake.fail(ChannelError.connectTimeout(TimeAmount(connectTimeout)))
                }
                defer { timeout.cancel() }
                do { try await handshake.futureResult.get() } catch {
                    channel.close(promise: nil)
                    throw CairnClientError.unreachable(node: address.description, reason: "TLS handshake failed: \(error)")
                }
            }
            return HTTPConnection(channel: channel, node: address.description)
        } catch {
            handshake?.fail(ChannelError.ioOnClosedChannel)
            throw error as? CairnClientError
                ?? CairnClientError.unreachable(node: address.description, reason: reason(error, connectTimeout: connectTimeout))
        }
    }

    /// Sends `request` and returns the whole response and whether the connection may be used
    /// again. A Swift task cancelled while it waits closes the connection.
    func send(_ request: ClientRequest, deadline: NIODeadline, timeout: Duration) async throws -> ResponseCollector.Received {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: node)
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        headers.replaceOrAdd(name: "Content-Length", value: String(request.body.count))
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.target, headers: headers)
        let promise = channel.eventLoop.makePromise(of: ResponseCollector.Received.self)
        let exchange = ResponseCollector.Exchange(head: head, body: request.body, deadline: deadline, promise: promise)
        // A write that fails means the request did not go out whole; if the response came
        // anyway (a refusal sent before the body was read) the promise is complete already and
        // this failure is ignored.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            promise.fail(ResponseCollector.Failure.closed("the request could not be sent (\(error))"))
        }
        channel.writeAndFlush(exchange, promise: written)
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch let failure as ResponseCollector.Failure {
            try Task.checkCancellation()
            switch failure {
            case .timedOut: throw CairnClientError.timedOut(node: node, after: timeout)
            case .closed(let reason): throw CairnClientError.connectionLost(node: node, reason: reason)
            case .malformed(let detail): throw CairnClientError.malformedResponse(detail)
            }
        }
    }

    private static func limits(maxHeaderBytes: Int) -> NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeaderBytes
        limits.maxHeaderListSize = maxHeaderBytes
        return limits
    }

    var isActive: Bool { channel.isActive }

    func close() {
        channel.close(promise: nil)
    }

    /// A short reason for a failed connect, from NIO's errors.
    static func reason(_ error: any Error, connectTimeout: Duration) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return reason(first.error, connectTimeout: connectTimeout)
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "cannot resolve host \(error.host)"
            }
            return "no address to connect to for \(error.host)"
        case ChannelError.connectTimeout:
            return "connection timed out after \(CairnClientError.seconds(connectTimeout))"
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ETIMEDOUT: return "connection timed out"
            case EHOSTUNREACH: return "no route to host"
            case ENETUNREACH: return "network is unreachable"
            case ECONNRESET: return "connection reset"
            case EADDRNOTAVAIL: return "address not available"
            default: return "\(error)"
            }
        default:
            return "\(error)"
        }
    }
}

/// Completes `done` when the TLS handshake of its connection finishes, fails it when the
/// handshake fails or the connection closes first.
private final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            done.succeed(())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
