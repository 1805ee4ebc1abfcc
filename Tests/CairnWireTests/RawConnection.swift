import CairnTransport
import CairnCore
import CairnWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A bare TCP connection for tests that speak to a server outside the protocol: it writes
/// whatever it is given and collects the bytes the server sends until it closes.
final class RawConnection: Sendable {
    let channel: any Channel
    let received: NIOLockedValueBox<ByteBuffer>

    private init(channel: any Channel, received: NIOLockedValueBox<ByteBuffer>) {
        self.channel = channel
        self.received = received
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<ByteBuffer>
        init(received: NIOLockedValueBox<ByteBuffer>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.withLockedValue { _ = $0.writeBuffer(&bytes) }
        }
    }

    static func open(to address: String, group: any EventLoopGroup) async throws -> RawConnection {
        let parsed = WireAddress(address)!
        let received = NIOLockedValueBox(ByteBuffer())
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: parsed.host, port: parsed.port).get()
        return RawConnection(channel: channel, received: received)
    }

    func write(_ frame: Frame) async throws {
        var bytes = ByteBuffer()
        try FrameEncoder.encode(frame, into: &bytes, maxFrameBytes: WireLimits.defaultMaxFrameBytes)
        try await writeBytes(bytes)
    }

    func writeBytes(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes).get()
    }

    /// Waits (at most 5 s) for the server to close, then decodes what it sent.
    func framesUntilClosed() async throws -> [Frame] {
        let closed = channel.closeFuture
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(5)) { self.channel.close(promise: nil) }
        try? await closed.get()
        timeout.cancel()
        var bytes = received.withLockedValue { $0 }
        var frames: [Frame] = []
        while let frame = try FrameDecoder.decodeFrame(from: &bytes, maxFrameBytes: WireLimits.defaultMaxFrameBytes) {
            frames.append(frame)
        }
        return frames
    }
}
