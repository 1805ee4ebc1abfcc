import NIOCore
import NIOHTTP1

/// The last handler of a client connection: it writes one request (an `Exchange`) and
/// collects its whole response, one exchange at a time.
///
/// The exchange's promise is completed exactly once: with the response at its end, or with a
/// `Failure` when the deadline passes, the body outgrows its bound, the decoder fails or the
/// connection closes first. After a timeout or a failure the connection is closed, since
/// whatever arrives later would be taken for the next response. A write that fails does not
/// fail the exchange: the server may already have answered (a 413 refuses a body before
/// reading it), and the close that follows settles it either way.
final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    /// One request and where its response goes.
    struct Exchange: Sendable {
        var head: HTTPRequestHead
        var body: [UInt8]
        var deadline: NIODeadline
        var promise: EventLoopPromise<Received>
    }

    /// A whole response, and whether the connection may carry another exchange (the server
    /// did not say `Connection: close`).
    struct Received: Sendable {
        var response: ClientResponse
        var isReusable: Bool
    }

    /// Why an exchange ended without a response.
    enum Failure: Error, Hashable {
        case timedOut
        case closed(String)
        case malformed(String)
    }

    private let maxBodyBytes: Int
    private var promise: EventLoopPromise<Received>?
    private var timer: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    /// Whether the connection may carry another exchange: false once the server said
    /// `Connection: close` or anything went wrong.
    private var isReusable = true

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard promise == nil, isReusable else {
            exchange.promise.fail(Failure.closed("the connection is busy or closing"))
            writePromise?.fail(Failure.closed("the connection is busy or closing"))
            return
        }
        promise = exchange.promise
        head = nil
        body = []
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) {
            self.finish(.failure(Failure.timedOut), context: context)
        }
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if !exchange.body.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: exchange.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: writePromise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else {
            // A response nobody asked for: the stream is out of step.
            finish(.failure(Failure.malformed("a response arrived with no request outstanding")), context: context)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            if !responseHead.isKeepAlive { isReusable = false }
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= maxBodyBytes else {
                finish(.failure(Failure.malformed("the response body is over \(maxBodyBytes) bytes")), context: context)
                return
            }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else {
                finish(.failure(Failure.malformed("a response ended before its head")), context: context)
                return
            }
            let headers = head.headers.map { ClientRequest.Header(name: $0.name, value: $0.value) }
            finish(.success(ClientResponse(status: Int(head.status.code), headers: headers, body: body)), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            finish(.failure(Failure.malformed("not an HTTP/1.1 response (\(error))")), context: context)
        } else {
            finish(.failure(Failure.closed("\(error)")), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isReusable = false
        finish(.failure(Failure.closed("the connection closed")), context: context)
        context.fireChannelInactive()
    }

    /// Completes the outstanding exchange, if any; closes the connection unless it succeeded
    /// on a connection the server keeps alive.
    private func finish(_ result: Result<ClientResponse, any Error>, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        let pending = promise
        promise = nil
        head = nil
        body = []
        if case .failure = result { isReusable = false }
        let reusable = isReusable
        if !reusable { context.close(promise: nil) }
        pending?.completeWith(result.map { Received(response: $0, isReusable: reusable) })
    }
}
