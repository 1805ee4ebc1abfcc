import CairnCore
import CairnWire
import Logging
import NIOCore

/// Feeds a client connection's events into its `WirePeer` (same event loop).
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let peer: WirePeer

    init(peer: WirePeer) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.kind {
        case .response, .error:
            peer.received(frame)
        case .request, .oneWay, .handshake:
            peer.logger.info("unexpected \(frame.kind) frame on an outgoing connection; closing")
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { peer.channelWritable(context.channel) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.channelClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        peer.logger.info("closing internode connection", metadata: ["cairn.error": "\(error)"])
        context.close(promise: nil)
    }
}
