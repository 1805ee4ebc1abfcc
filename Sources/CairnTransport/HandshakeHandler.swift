import CairnCore
import CairnWire
import Logging
import NIOCore

/// Fired inbound once the handshake has established the peer; the connection handlers wait
/// for it before they serve or send anything.
struct HandshakeEstablished: Sendable {
    var peer: Handshake.Peer
}

/// Runs `Handshake.Machine` on a channel: writes what it sends, closes on a refusal, times it
/// out, and then lets frames through to the connection handler behind it.
///
/// `established` is completed exactly once: with the peer, or with a `TransportError`
/// (`.refused` with the reason, `.connectionClosed`, or the decoder's error). Refusals are
/// logged here at info with the peer and reason (`cairn.peer`, `cairn.refusal`).
final class HandshakeHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundOut = Frame

    private var machine: Handshake.Machine
    private let timeout: TimeAmount
    private let established: EventLoopPromise<Handshake.Peer>
    private let logger: Logger
    private let peerLabel: String
    private var timer: Scheduled<Void>?
    private var started = false
    private var done = false

    init(
        role: Handshake.Role, configuration: Handshake.Configuration, limits: WireLimits, timeout: Duration,
        established: EventLoopPromise<Handshake.Peer>, peerLabel: String, logger: Logger
    ) {
        machine = Handshake.Machine(role: role, configuration: configuration, nonce: Self.freshNonce(), limits: limits)
        self.timeout = TimeAmount(timeout)
        self.established = established
        self.peerLabel = peerLabel
        self.logger = logger
    }

    /// 32 bytes from the system's cryptographic generator (getrandom on Linux).
    static func freshNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Handshake.nonceBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.carryOut(handler.machine.timedOut(), context: context)
        }
        carryOut(machine.start(), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if machine.isEstablished {
            guard frame.kind != .handshake else {
                logger.info("handshake frame after the handshake; closing", metadata: ["cairn.peer": "\(peerLabel)"])
                context.close(promise: nil)
                return
            }
            context.fireChannelRead(data)
            return
        }
        guard !machine.isClosed else { return }  // after a refusal, until the close lands
        carryOut(machine.receive(frame), context: context)
    }

    private func carryOut(_ actions: [Handshake.Machine.Action], context: ChannelHandlerContext) {
        var lastWrite: EventLoopFuture<Void>?
        for action in actions {
            switch action {
            case .send(let frame):
                lastWrite = context.writeAndFlush(wrapOutboundOut(frame))
            case .established(let peer):
                finish(.success(peer))
                context.fireUserInboundEventTriggered(HandshakeEstablished(peer: peer))
            case .refused(let refusal):
                logger.info("refused internode peer", metadata: [
                    "cairn.peer": "\(peerLabel)", "cairn.refusal": "\(refusal.reason)", "cairn.detail": "\(refusal.detail)",
                ])
                finish(.failure(TransportError(.refused, peer: peerLabel, "handshake refused", refusal: refusal)))
                // The refusal frame went out in the `.send` before: close once it is written, so
                // the peer can log why.
                let channel = context.channel
                if let lastWrite {
                    lastWrite.whenComplete { _ in channel.close(promise: nil) }
                } else {
                    channel.close(promise: nil)
                }
            case .peerRefused(let refusal):
                logger.info("internode peer refused this node", metadata: [
                    "cairn.peer": "\(peerLabel)", "cairn.refusal": "\(refusal.reason)", "cairn.detail": "\(refusal.detail)",
                ])
                finish(.failure(TransportError(
                    .refused, peer: peerLabel, "handshake refused by the peer", refusal: refusal, refusedByPeer: true)))
                context.close(promise: nil)
            }
        }
    }

    private func finish(_ result: Result<Handshake.Peer, TransportError>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        established.completeWith(result.mapError { $0 as any Error })
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if machine.isEstablished {
            context.fireErrorCaught(error)
            return
        }
        logger.info("internode handshake failed", metadata: ["cairn.peer": "\(peerLabel)", "cairn.error": "\(error)"])
        finish(.failure(TransportError(.connectionClosed, peer: peerLabel, "during the handshake: \(error)")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(TransportError(.connectionClosed, peer: peerLabel, "connection closed during the handshake")))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(TransportError(.connectionClosed, peer: peerLabel, "connection closed during the handshake")))
    }
}
