import NIOCore

/// The first handler of a connection to an HTTPS port, before the TLS handler: a connection
/// whose first byte starts a TLS handshake record (0x16) is passed on untouched and the sniffer
/// steps aside; one that starts with anything else is a plain HTTP client at the wrong scheme,
/// and gets a plain `400 tls_required` saying so (as nginx's 497) instead of a dropped
/// connection it cannot explain.
final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let handshakeRecord: UInt8 = 0x16

    static var answer: ByteBuffer {
        let body = #"{"error":{"code":"tls_required","message":"this port speaks HTTPS: use https:// and the cluster's CA certificate (curl --cacert ca.crt, cairn --ca ca.crt)"}}"#
        let head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return ByteBuffer(string: head + body)
    }

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        if first == Self.handshakeRecord {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        context.writeAndFlush(wrapOutboundOut(Self.answer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
