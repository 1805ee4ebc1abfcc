import NIOCore

/// The last handler of a RESP connection: writes one command (an `Exchange`) and completes
/// its promise with the reply, one exchange at a time, as `CairnClient`'s `ResponseCollector`
/// does for HTTP.
///
/// The promise is completed exactly once: with the reply, or with a `Failure` when the
/// deadline passes, the stream is not RESP or the connection closes first. After a failure
/// the connection is closed, since a late reply would be taken for the next command's.
final class RESPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = Exchange
    typealias OutboundOut = ByteBuffer

    struct Exchange: Sendable {
        var command: [[UInt8]]
        var deadline: NIODeadline
        var promise: EventLoopPromise<RESPValue>
    }

    enum Failure: Error, Hashable {
        case timedOut
        case closed(String)
        case malformed(String)
    }

    private var promise: EventLoopPromise<RESPValue>?
    private var timer: Scheduled<Void>?
    private var isOpen = true

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard promise == nil, isOpen else {
            exchange.promise.fail(Failure.closed("the connection is busy or closing"))
            writePromise?.fail(Failure.closed("the connection is busy or closing"))
            return
        }
        promise = exchange.promise
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) {
            self.finish(.failure(Failure.timedOut), context: context)
        }
        var buffer = context.channel.allocator.buffer(capacity: exchange.command.reduce(16) { $0 + $1.count + 16 })
        RESPValue.encode(command: exchange.command, into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: writePromise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else {
            finish(.failure(Failure.malformed("a reply arrived with no command outstanding")), context: context)
            return
        }
        finish(.success(unwrapInboundIn(data)), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RESPReplyDecoder.ProtocolError {
            finish(.failure(Failure.malformed(error.description)), context: context)
        } else {
            finish(.failure(Failure.closed("\(error)")), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        finish(.failure(Failure.closed("the connection closed")), context: context)
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<RESPValue, any Error>, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        let pending = promise
        promise = nil
        if case .failure = result, isOpen {
            isOpen = false
            context.close(promise: nil)
        }
        pending?.completeWith(result)
    }
}
