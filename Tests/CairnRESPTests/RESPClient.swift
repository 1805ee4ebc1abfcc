import CairnHTTPTestSupport
import NIOCore
import NIOPosix

/// A reply as the tests read it back: a decoder of the server's bytes written apart from the
/// server's encoder, so the two check each other.
indirect enum Reply: Hashable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([Reply])
    case map([Reply])

    static func text(_ text: String) -> Reply { .bulk(Array(text.utf8)) }

    var description: String {
        switch self {
        case .simple(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "$\(String(decoding: bytes, as: UTF8.self))"
        case .null: "nil"
        case .array(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
        case .map(let elements): "%[\(elements.map(\.description).joined(separator: ", "))]"
        }
    }

    var errorText: String? {
        if case .error(let text) = self { return text }
        return nil
    }

    /// Parses one reply from the front of `bytes`, removing it; `nil` when incomplete.
    static func parse(_ bytes: inout ArraySlice<UInt8>) -> Reply? {
        let start = bytes
        guard let reply = parseOne(&bytes) else {
            bytes = start
            return nil
        }
        return reply
    }

    private static func line(_ bytes: inout ArraySlice<UInt8>) -> String? {
        guard let cr = bytes.firstIndex(of: 13), cr + 1 < bytes.endIndex else { return nil }
        precondition(bytes[cr + 1] == 10, "a reply line without LF")
        let text = String(decoding: bytes[bytes.startIndex..<cr], as: UTF8.self)
        bytes = bytes[(cr + 2)...]
        return text
    }

    private static func parseOne(_ bytes: inout ArraySlice<UInt8>) -> Reply? {
        guard let type = bytes.first else { return nil }
        bytes = bytes.dropFirst()
        guard let header = line(&bytes) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(header)
        case UInt8(ascii: "-"): return .error(header)
        case UInt8(ascii: ":"): return .integer(Int64(header)!)
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "$"):
            let length = Int(header)!
            if length < 0 { return .null }
            guard bytes.count >= length + 2 else { return nil }
            let value = Array(bytes.prefix(length))
            bytes = bytes.dropFirst(length + 2)
            return .bulk(value)
        case UInt8(ascii: "*"), UInt8(ascii: "%"):
            let count = Int(header)!
            if count < 0 { return .null }
            var elements: [Reply] = []
            for _ in 0..<(type == UInt8(ascii: "%") ? count * 2 : count) {
                guard let element = parseOne(&bytes) else { return nil }
                elements.append(element)
            }
            return type == UInt8(ascii: "%") ? .map(elements) : .array(elements)
        default:
            preconditionFailure("unknown reply type \(type)")
        }
    }
}

/// The bytes of a command as client libraries send it: an array of bulk strings.
func command(_ arguments: [[UInt8]]) -> [UInt8] {
    var bytes = Array("*\(arguments.count)\r\n".utf8)
    for argument in arguments {
        bytes += Array("$\(argument.count)\r\n".utf8) + argument + [13, 10]
    }
    return bytes
}

func command(_ arguments: String...) -> [UInt8] {
    command(arguments.map { Array($0.utf8) })
}

/// A raw client on a real socket: writes exact bytes, reads replies.
final class RawClient {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending: ArraySlice<UInt8> = []

    struct ClosedEarly: Error {}

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends one command and reads its reply.
    func call(_ arguments: String...) async throws -> Reply {
        try await send(command(arguments.map { Array($0.utf8) }))
        return try await reply()
    }

    func call(bytes arguments: [[UInt8]]) async throws -> Reply {
        try await send(command(arguments))
        return try await reply()
    }

    func replies(_ count: Int) async throws -> [Reply] {
        var replies: [Reply] = []
        while replies.count < count {
            if let reply = Reply.parse(&pending) {
                replies.append(reply)
                continue
            }
            guard let buffer = try await inbound.next() else { throw ClosedEarly() }
            pending = ArraySlice(Array(pending) + Array(buffer.readableBytesView))
        }
        return replies
    }

    func reply() async throws -> Reply { try await replies(1)[0] }

    /// Whether the server closes the connection without sending anything more.
    func closesWithoutMore() async throws -> Bool {
        while let buffer = try await inbound.next() {
            if buffer.readableBytes > 0 { return false }
        }
        return pending.isEmpty
    }

    /// Runs `body` on a new connection to `address`, closing it afterwards.
    static func with<T: Sendable>(
        _ address: SocketAddress, seconds: Double = 10, _ body: @escaping @Sendable (RawClient) async throws -> T
    ) async throws -> T {
        try await withTimeout(seconds: seconds) {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                try await body(RawClient(inbound: inbound, outbound: outbound))
            }
        }
    }
}
