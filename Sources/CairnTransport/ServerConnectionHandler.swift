import CairnCore
import CairnWire
import Logging
import NIOCore

/// Serves one accepted connection after its handshake: decodes requests, runs the node's
/// handler for each (many at once, matched by request id), writes the answers.
///
/// Back-pressure: at `maxConcurrentRequestsPerConnection` requests in progress, or while the
/// socket cannot take more output, it stops asking the channel to read, so TCP flow control
/// slows the sender instead of this node buffering. Frames that were already read when it
/// stopped (one socket read may hold many) wait in a backlog of at most as many again, taken
/// as requests finish; only past that is a request answered `overloaded`.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private let handler: any WireRequestHandler
    private let settings: WireSettings
    private let logger: Logger
    private let peerLabel: String
    private var peer: Handshake.Peer?
    private var inFlight = 0
    /// Frames read while `inFlight` was at the bound, oldest first.
    private var backlog = CircularBuffer<Frame>()
    private var readPending = false
    private var context: ChannelHandlerContext?
    /// The handler tasks in progress, cancelled when the connection closes (nobody is left to
    /// read their answers).
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var nextTaskID: UInt64 = 0
    private var flushScheduled = false

    init(handler: any WireRequestHandler, settings: WireSettings, peerLabel: String, logger: Logger) {
        self.handler = handler
        self.settings = settings
        self.peerLabel = peerLabel
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancelTasks()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTasks()
        context.fireChannelInactive()
    }

    private func cancelTasks() {
        for task in tasks.values { task.cancel() }
        tasks = [:]
        backlog.removeAll()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let established = event as? HandshakeEstablished {
            peer = established.peer
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let peer else {
            context.close(promise: nil)
            return
        }
        switch frame.kind {
        case .request, .oneWay:
            guard inFlight < settings.maxConcurrentRequestsPerConnection else {
                guard backlog.count < settings.maxConcurrentRequestsPerConnection else {
                    if frame.kind == .request {
                        reply(ErrorReply(.overloaded, "\(inFlight) requests in progress and \(backlog.count) waiting on this connection")
                            .frame(requestID: frame.requestID), context: context)
                    } else {
                        logger.info("dropped a one-way message: connection overloaded", metadata: ["cairn.peer": "\(peerLabel)"])
                    }
                    return
                }
                backlog.append(frame)
                return
            }
            start(frame, peer: peer, context: context)
        case .response, .error, .handshake:
            logger.info("unexpected \(frame.kind) frame on a server connection; closing", metadata: ["cairn.peer": "\(peerLabel)"])
            context.close(promise: nil)
        }
    }

    /// Decodes a request or one-way frame and runs the handler for it.
    private func start(_ frame: Frame, peer: Handshake.Peer, context: ChannelHandlerContext) {
        switch frame.kind {
        case .request:
            let message: WireMessage
            do {
                message = try WireMessage(frame: frame, limits: settings.limits)
            } catch {
                let code: ErrorReply.Code = error.code == .unknownMessageType ? .unsupported : .badRequest
                reply(ErrorReply(code, "\(error)").frame(requestID: frame.requestID), context: context)
                return
            }
            inFlight += 1
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let limits = settings.limits
            let requestID = frame.requestID
            let started = handler.start(request: message, from: peer) { result in
                let answer = Self.frame(answering: result, requestID: requestID, limits: limits)
                // Always a later turn of the loop, even when answered at once: `finished` may
                // start backlogged requests and read more.
                eventLoop.execute { bound.value.finished(answer, taskID: nil) }
            }
            guard !started else { return }
            inFlight -= 1
            run(requestID: frame.requestID, context: context) { [handler] in
                await Self.answer(message, requestID: frame.requestID, from: peer, handler: handler, limits: limits)
            }
        case .oneWay:
            let message: WireMessage
            do {
                message = try WireMessage(frame: frame, limits: settings.limits)
            } catch {
                logger.info("dropped a one-way message that does not decode", metadata: ["cairn.peer": "\(peerLabel)", "cairn.error": "\(error)"])
                return
            }
            guard !handler.start(oneWay: message, from: peer) else { return }
            run(requestID: 0, context: context) { [handler] in
                await handler.handle(oneWay: message, from: peer)
                return nil
            }
        case .response, .error, .handshake:
            preconditionFailure("start() called for a \(frame.kind) frame")
        }
    }

    /// Runs `work` off the loop, then writes its frame (if any) back on the loop.
    private func run(requestID: UInt64, context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> Frame?) {
        inFlight += 1
        nextTaskID += 1
        let taskID = nextTaskID
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        tasks[taskID] = Task {
            let frame = await work()
            eventLoop.execute { bound.value.finished(frame, taskID: taskID) }
        }
    }

    private static func answer(
        _ message: WireMessage, requestID: UInt64, from peer: Handshake.Peer, handler: any WireRequestHandler, limits: WireLimits
    ) async -> Frame {
        let result: Result<WireMessage, any Error>
        do {
            result = .success(try await handler.handle(request: message, from: peer))
        } catch {
            result = .failure(error)
        }
        return frame(answering: result, requestID: requestID, limits: limits)
    }

    /// The frame that carries a handler's answer (or its failure) back.
    private static func frame(answering result: Result<WireMessage, any Error>, requestID: UInt64, limits: WireLimits) -> Frame {
        let response: WireMessage
        switch result {
        case .success(let message):
            response = message
        case .failure(let error as ErrorReply):
            return error.frame(requestID: requestID)
        case .failure(let error):
            return ErrorReply(.handlerFailed, "\(error)").frame(requestID: requestID)
        }
        guard response.role == .response else {
            return ErrorReply(.handlerFailed, "the handler answered with \(response.messageType), not a response").frame(requestID: requestID)
        }
        let frame = response.frame(requestID: requestID)
        guard frame.lengthFieldValue <= limits.maxFrameBytes else {
            return ErrorReply(.tooLarge, "answer of \(frame.lengthFieldValue) bytes exceeds the frame limit \(limits.maxFrameBytes)")
                .frame(requestID: requestID)
        }
        return frame
    }

    private func finished(_ frame: Frame?, taskID: UInt64?) {
        inFlight -= 1
        if let taskID { tasks[taskID] = nil }
        guard let context else { return }  // the connection closed meanwhile
        if let frame { reply(frame, context: context) }
        while inFlight < settings.maxConcurrentRequestsPerConnection, let next = backlog.popFirst(), let peer {
            start(next, peer: peer, context: context)
        }
        resumeReadingIfAllowed(context: context)
    }

    /// Writes an answer; the flush waits for the loop's next turn, so the answers finished in
    /// one turn leave in one write.
    private func reply(_ frame: Frame, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(frame), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = bound.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    // MARK: back-pressure

    func read(context: ChannelHandlerContext) {
        if inFlight >= settings.maxConcurrentRequestsPerConnection || !backlog.isEmpty || !context.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfAllowed(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        guard readPending, inFlight < settings.maxConcurrentRequestsPerConnection, backlog.isEmpty, context.channel.isWritable
        else { return }
        readPending = false
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("closing internode connection", metadata: ["cairn.peer": "\(peerLabel)", "cairn.error": "\(error)"])
        context.close(promise: nil)
    }
}
