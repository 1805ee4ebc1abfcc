import CairnHTTP
import CairnHTTPTestSupport
import NIOCore
import NIOPosix

/// A raw HTTP/1.1 client over a real socket (NIO, no HTTP codec): the tests write exact bytes
/// and read the server's bytes back with `RawResponse`.
final class Conversation {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending: [UInt8] = []

    struct ClosedEarly: Error {}

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next `count` responses, skipping none (a `100 Continue` counts as one).
    func responses(_ count: Int) async throws -> [RawResponse] {
        var responses = RawResponse.parseAll(&pending)
        while responses.count < count {
            guard let buffer = try await inbound.next() else { throw ClosedEarly() }
            pending += Array(buffer.readableBytesView)
            responses += RawResponse.parseAll(&pending)
        }
        precondition(responses.count == count, "more responses than asked for: \(responses.count)")
        return responses
    }

    func response() async throws -> RawResponse { try await responses(1)[0] }

    /// Whether the server closes the connection without sending anything more.
    func closesWithoutMore() async throws -> Bool {
        while let buffer = try await inbound.next() {
            if buffer.readableBytes > 0 { return false }
        }
        return pending.isEmpty
    }

    /// Runs `body` on a new connection to `address`, closing it afterwards.
    static func with<T: Sendable>(
        _ address: SocketAddress, _ body: @escaping @Sendable (Conversation) async throws -> T
    ) async throws -> T {
        try await withTimeout {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                try await body(Conversation(inbound: inbound, outbound: outbound))
            }
        }
    }
}

/// Starts `server`, runs `body` with its address, and stops it whether `body` throws or not.
func withStarted(_ server: HTTPServer, _ body: (HTTPServer, SocketAddress) async throws -> Void) async throws {
    let address = try await server.start()
    do {
        try await body(server, address)
    } catch {
        await server.stop(gracePeriod: .milliseconds(100))
        throw error
    }
    await server.stop(gracePeriod: .milliseconds(100))
}
