import NIOCore
import NIOHTTP1

/// The last handler of a connection's pipeline: it feeds request parts to a `RequestAssembler`,
/// calls the service for each complete request in a task, and writes the response back on the
/// event loop.
///
/// It sits behind NIOHTTP1's decoder, encoder and `HTTPServerPipelineHandler`, which delivers
/// one request at a time and holds pipelined ones back until the response to the current one
/// has ended, so responses leave in request order. The service task is cancelled when the
/// connection closes.
final class APIChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: any KeyValueService
    private let lingerTimeout: TimeAmount
    private var assembler: RequestAssembler
    private var inFlight: Task<Void, Never>?
    private var isActive = true
    private var lingerTimer: Scheduled<Void>?

    /// `lingerTimeout` bounds how long a connection refused mid-body keeps draining input after
    /// its error response before it is closed outright.
    init(service: any KeyValueService, limits: APILimits, lingerTimeout: TimeAmount) {
        self.service = service
        self.lingerTimeout = lingerTimeout
        self.assembler = RequestAssembler(limits: limits, replicationFactor: service.replicationFactor)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: RequestAssembler.Action
        switch unwrapInboundIn(data) {
        case .head(let head): action = assembler.receivedHead(head)
        case .body(let part): action = assembler.receivedBody(part)
        case .end: action = assembler.receivedEnd()
        }
        perform(action, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            perform(assembler.parserFailed(parserError), context: context)
            return
        }
        if case .refused = assembler.state {
            // Bytes after a parser error, arriving while the refusal drains: expected.
            return
        }
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // Nothing arrived for the idle timeout: close unless the service is still working
            // on a request (its own timeouts bound that).
            if !assembler.isServing { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        isActive = false
        inFlight?.cancel()
        inFlight = nil
        lingerTimer?.cancel()
        lingerTimer = nil
    }

    private func perform(_ action: RequestAssembler.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .sendContinue:
            let head = HTTPResponseHead(version: .http1_1, status: .continue)
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        case .dispatch(let request, let version, let keepAlive):
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            let service = self.service
            inFlight = Task {
                promise.succeed(await service.respond(to: request))
            }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.inFlight = nil
                guard self.isActive else { return }
                self.send(response, version: version, keepAlive: keepAlive, linger: false, context: context)
            }
        case .respond(let response, let version, let keepAlive):
            send(response, version: version, keepAlive: keepAlive, linger: false, context: context)
        case .respondAndClose(let response, let version):
            send(response, version: version, keepAlive: false, linger: true, context: context)
        }
    }

    /// Writes one whole response. Without keep-alive the connection then closes; with `linger`
    /// it first closes only its output and drains input for up to `lingerTimeout`, so the
    /// client, still sending the body being refused, reads the response instead of a reset.
    private func send(
        _ response: APIResponse, version: HTTPVersion, keepAlive: Bool, linger: Bool, context: ChannelHandlerContext
    ) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if version == .http1_0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            let body = context.channel.allocator.buffer(bytes: response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        // Before `.end`: writing it may deliver the next pipelined request at once.
        assembler.responseSent()
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        guard !keepAlive else { return }
        written.futureResult.assumeIsolated().whenComplete { _ in
            if linger {
                self.closeOutputAndLinger(context: context)
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func closeOutputAndLinger(context: ChannelHandlerContext) {
        let closed = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: closed)
        closed.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                // The peer's end of input (or this timer) closes the connection for good.
                guard self.isActive else { return }
                self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.lingerTimeout) {
                    context.close(promise: nil)
                }
            case .failure:
                context.close(promise: nil)
            }
        }
    }
}
