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
///
/// A data request first takes a slot of the server's `InFlightLimit`, or is answered `503
/// overloaded` without reaching the service. The slot is given back once its response has been
/// written to the socket (or, when the connection closed meanwhile, once the service returned).
/// A pipelined request that arrives while the previous response is still being written takes
/// over that response's slot, so one connection never needs two.
final class APIChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: any KeyValueService
    private let lingerTimeout: TimeAmount
    private let inFlightLimit: InFlightLimit
    private let bounds: ConnectionBounds
    private let phase: RequestPhase
    /// Bytes of the current request's body counted against `bounds`' body budget.
    private var bodyBytesHeld = 0
    private var assembler: RequestAssembler
    private var inFlight: Task<Void, Never>?
    /// Where the service tasks of this connection run: its own event loop.
    private var taskExecutor: EventLoopTaskExecutor?
    private var isActive = true
    private var lingerTimer: Scheduled<Void>?
    /// A slot held by a response that is sent but not yet written out: the first of its write
    /// completing or the next data request on this connection takes it.
    private var slotAwaitingWrite = false

    /// `lingerTimeout` bounds how long a connection refused mid-body keeps draining input after
    /// its error response before it is closed outright; `inFlightLimit` is shared by every
    /// connection of the server.
    init(service: any KeyValueService, limits: APILimits, lingerTimeout: TimeAmount, inFlightLimit: InFlightLimit,
         bounds: ConnectionBounds, phase: RequestPhase, auth: ClientAuth? = nil) {
        self.service = service
        self.lingerTimeout = lingerTimeout
        self.inFlightLimit = inFlightLimit
        self.bounds = bounds
        self.phase = phase
        self.assembler = RequestAssembler(limits: limits, replicationFactor: service.replicationFactor, auth: auth)
    }

    /// The parts of a request that arrived while the connection's answers were backed up (not
    /// writable): served once they drain. At most one request, since the pipelining handler
    /// delivers the next only after this one's answer.
    private var deferred: [HTTPServerRequestPart] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !deferred.isEmpty {
            deferred.append(part)
            return
        }
        if case .head = part, !context.channel.isWritable {
            // The client is not reading its answers: take no new request until it does. (The
            // `WritabilityGate` stops reading the socket; this holds back requests already read.)
            deferred.append(part)
            return
        }
        receive(part, context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !deferred.isEmpty {
            let parts = deferred
            deferred = []
            for part in parts where isActive { receive(part, context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        let action: RequestAssembler.Action
        switch part {
        case .head(let head):
            phase.phase = .body(since: .now(), bytes: 0)
            action = assembler.receivedHead(head)
        case .body(let part):
            if case .body(let since, let bytes) = phase.phase { phase.phase = .body(since: since, bytes: bytes + part.readableBytes) }
            if case .receiving = assembler.state {
                guard bounds.takeBody(part.readableBytes) else {
                    perform(assembler.refuse(.error(APIError(
                        .overloaded, "the node holds its limit of \(bounds.maxBodyBytes) bytes of request bodies; retry later",
                        detail: ["retry_after_seconds": 1], headers: [(name: "Retry-After", value: "1")]))), context: context)
                    return
                }
                bodyBytesHeld += part.readableBytes
            }
            action = assembler.receivedBody(part)
        case .end:
            phase.phase = .serving
            action = assembler.receivedEnd()
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
        if let timedOut = event as? RequestClock.RequestTimedOut {
            perform(assembler.refuse(.error(APIError(.requestTimeout, timedOut.message))), context: context)
            return
        }
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

    private func releaseBody() {
        bounds.releaseBody(bodyBytesHeld)
        bodyBytesHeld = 0
    }

    private func stop() {
        releaseBody()
        deferred = []
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
            let holdsSlot = request.takesInFlightSlot
            if holdsSlot {
                if slotAwaitingWrite {
                    slotAwaitingWrite = false
                } else if !inFlightLimit.acquire() {
                    send(inFlightLimit.overloadedResponse, version: version, keepAlive: keepAlive, linger: false,
                         context: context)
                    return
                }
            } else if case .metrics = request {
                inFlightLimit.recordGauge()
            }
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            let service = self.service
            let executor = taskExecutor ?? EventLoopTaskExecutor(context.eventLoop)
            taskExecutor = executor
            inFlight = Task(executorPreference: executor) {
                promise.succeed(await service.respond(to: request))
            }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.inFlight = nil
                guard self.isActive else {
                    if holdsSlot { self.inFlightLimit.release() }
                    return
                }
                self.send(response, version: version, keepAlive: keepAlive, linger: false, holdsSlot: holdsSlot,
                          context: context)
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
    /// `holdsSlot`: the response is to a request holding an in-flight slot, given back once the
    /// response is written (or handed to the next request, see `slotAwaitingWrite`).
    private func send(
        _ response: APIResponse, version: HTTPVersion, keepAlive: Bool, linger: Bool, holdsSlot: Bool = false,
        context: ChannelHandlerContext
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
        releaseBody()
        phase.phase = .idle
        assembler.responseSent()
        if holdsSlot { slotAwaitingWrite = true }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        guard holdsSlot || !keepAlive else { return }
        written.futureResult.assumeIsolated().whenComplete { _ in
            // Written, or failed because the connection closed: either way the slot is free,
            // unless a pipelined request took it over meanwhile.
            if holdsSlot, self.slotAwaitingWrite {
                self.slotAwaitingWrite = false
                self.inFlightLimit.release()
            }
            guard !keepAlive else { return }
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
