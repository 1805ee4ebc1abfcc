import CairnHTTP
import NIOCore

/// One client connection: reads commands with a `RESPParser`, answers them in order, and reads
/// from the socket only while it has room to.
///
/// Commands are carried out one at a time, in the order they came, as Redis does: a
/// connection command (PING, CLIENT, HELLO, …) at once on the event loop, a data command in a
/// task against the service, whose answer is written back on the event loop before the next
/// command starts. Many pipelined commands in one read are therefore answered in order, and a
/// write is seen by the commands after it on the same connection.
///
/// Buffering is bounded both ways. Input: the handler holds back the channel's reads (it
/// intercepts `read`, as NIO's `BackPressureHandler` does) while a command is being served,
/// while the bytes it has already hold a whole command it has not started, and while the
/// channel is not writable; so it keeps at most one partial command (within `RESPLimits`) and
/// one read's worth of bytes. Output: it stops taking commands when the channel stops being
/// writable (the outbound buffer passed its high-water mark) and goes on when it drains, so a
/// client that sends commands and never reads the answers fills its own socket buffers and
/// then waits. A connection that makes no progress (no input, no answer leaving) for
/// `stallTimeout` while in that state, or in the middle of a command, is closed; a client that
/// reads its answers slowly keeps making progress and is not.
final class RESPChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let executor: RESPExecutor
    private var parser: RESPParser
    private var session: RESPSession
    /// Bytes read and not yet parsed.
    private var inbound: ByteBuffer
    /// Answers produced and not yet written to the channel.
    private var outbound: ByteBuffer
    /// A data command is being served.
    private var inFlight: Task<Void, Never>?
    /// Where the command tasks of this connection run: its own event loop.
    private var taskExecutor: EventLoopTaskExecutor?
    /// The parser has consumed everything it could: more bytes are needed to go on.
    private var needsInput = true
    /// A `read` held back, to pass on once there is room.
    private var readHeld = false
    /// After QUIT, another protocol's request, or a stop: nothing more is read or answered.
    private var isClosing = false
    /// The server is stopping: close once the command in progress is answered.
    private var isQuiescing = false
    private var isActive = true
    /// The last input, answer or drained output: what a stalled connection lacks.
    private var lastProgress = NIODeadline.now()
    private let stallTimeout: TimeAmount

    /// Answers are handed to the channel in pieces of at most this many bytes, so writability
    /// is checked between them.
    static let outboundChunkBytes = 64 << 10

    init(executor: RESPExecutor, session: RESPSession, stallTimeout: TimeAmount, allocator: ByteBufferAllocator) {
        self.executor = executor
        self.stallTimeout = stallTimeout
        self.parser = RESPParser(limits: executor.limits)
        self.session = session
        self.inbound = allocator.buffer(capacity: 0)
        self.outbound = allocator.buffer(capacity: 0)
    }

    // MARK: Events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        lastProgress = .now()
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        process(context: context)
    }

    func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            lastProgress = .now()
            process(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // No input for the stall timeout. A connection idle between commands stays open (as
            // with Redis's default `timeout 0`); one stalled mid-command, or whose client stopped
            // reading its answers, with no progress either way for as long, is closed. A command
            // in progress is bounded by the service.
            let waiting = parser.isMidCommand || inbound.readableBytes > 0 || !context.channel.isWritable
            if inFlight == nil, waiting, NIODeadline.now() - lastProgress >= stallTimeout { context.close(promise: nil) }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            isQuiescing = true
            if inFlight == nil { closeAfterWriting(context: context) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
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
        isClosing = true
        inFlight?.cancel()
        inFlight = nil
    }

    // MARK: Commands

    /// Whether a read may go to the socket now.
    private func mayRead(context: ChannelHandlerContext) -> Bool {
        !isClosing && !isQuiescing && inFlight == nil && needsInput && context.channel.isWritable
    }

    /// Answers the commands the buffered bytes hold, in order, while the channel is writable
    /// and no data command is in flight; then lets a held read go.
    private func process(context: ChannelHandlerContext) {
        while isActive, !isClosing, !isQuiescing, inFlight == nil, context.channel.isWritable {
            guard let outcome = parser.next(&inbound) else {
                needsInput = true
                break
            }
            needsInput = false
            switch outcome {
            case .foreignProtocol:
                // Another protocol's request (HTTP): close without an answer, as Redis does.
                isClosing = true
                writeOutput(context: context)
                context.close(promise: nil)
                return
            case .refused(let error):
                emit(.error(error), context: context)
            case .command(let arguments):
                let command: RESPCommand
                do {
                    command = try RESPCommand.parse(arguments, limits: executor.limits)
                } catch {
                    emit(.error(error), context: context)
                    continue
                }
                guard executor.allows(command, session: session) else {
                    emit(.error(executor.authenticationRequired), context: context)
                    continue
                }
                if command.isConnectionCommand {
                    let (answer, after) = executor.answer(command, session: &session)
                    emit(answer, context: context)
                    if after == .close {
                        closeAfterWriting(context: context)
                        return
                    }
                } else {
                    start(command, context: context)
                }
            }
        }
        compactInbound()
        writeOutput(context: context)
        if readHeld, mayRead(context: context) {
            readHeld = false
            context.read()
        }
    }

    /// Serves a data command in a task; its answer is written, and the next command taken, on
    /// the event loop.
    private func start(_ command: RESPCommand, context: ChannelHandlerContext) {
        writeOutput(context: context)
        let promise = context.eventLoop.makePromise(of: RESPValue.self)
        let executor = self.executor
        let session = self.session
        let taskExecutor = self.taskExecutor ?? EventLoopTaskExecutor(context.eventLoop)
        self.taskExecutor = taskExecutor
        inFlight = Task(executorPreference: taskExecutor) { promise.succeed(await executor.execute(command, session: session)) }
        promise.futureResult.assumeIsolated().whenSuccess { answer in
            guard self.isActive else { return }
            self.inFlight = nil
            self.emit(answer, context: context)
            if self.isQuiescing {
                self.closeAfterWriting(context: context)
            } else {
                self.process(context: context)
            }
        }
    }

    /// Encodes `answer` into the outbound buffer, handing the buffer to the channel once it is
    /// large enough for writability to matter.
    private func emit(_ answer: RESPValue, context: ChannelHandlerContext) {
        lastProgress = .now()
        if case .error = answer {
            executor.server.countCommand(failed: true)
        } else {
            executor.server.countCommand(failed: false)
        }
        answer.encode(into: &outbound, version: session.version)
        if outbound.readableBytes >= Self.outboundChunkBytes {
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound = context.channel.allocator.buffer(capacity: 0)
        }
    }

    private func writeOutput(context: ChannelHandlerContext) {
        if outbound.readableBytes > 0 {
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound = context.channel.allocator.buffer(capacity: 0)
        }
        context.flush()
    }

    private func closeAfterWriting(context: ChannelHandlerContext) {
        isClosing = true
        if outbound.readableBytes > 0 {
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound = context.channel.allocator.buffer(capacity: 0)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Gives back the space of parsed bytes once it is large, or all of it once everything is
    /// parsed.
    private func compactInbound() {
        if inbound.readableBytes == 0 {
            // After a large command, do not keep its space for a connection that may idle.
            if inbound.capacity > Self.outboundChunkBytes * 4 {
                inbound = ByteBufferAllocator().buffer(capacity: 0)
            } else {
                inbound.clear()
            }
        } else if inbound.readerIndex >= 64 << 10 {
            inbound.discardReadBytes()
        }
    }
}
