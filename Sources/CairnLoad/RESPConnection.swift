import CairnClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One RESP2 connection to a Redis-protocol server (`cairnd --resp`, or Redis itself): sends a
/// command, waits for its reply. One command at a time; no pipelining.
final class RESPConnection: Sendable {
    let channel: any Channel
    let node: String

    private init(channel: any Channel, node: String) {
        self.channel = channel
        self.node = node
    }

    /// Connects to `address`, from `sourceAddress` when given.
    static func connect(
        to address: NodeAddress, from sourceAddress: String?, group: any EventLoopGroup, timeout: Duration
    ) async throws -> RESPConnection {
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(clamping: timeout.clampedNanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try pipeline.addHandler(RESPExchangeHandler())
                }
            }
        do {
            if let sourceAddress {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0))
            }
            let channel = try await bootstrap.connect(host: address.host, port: address.port).get()
            return RESPConnection(channel: channel, node: address.description)
        } catch {
            throw RESPClientError.unreachable(node: address.description, reason: reason(error))
        }
    }

    /// A short reason for a failed connect.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return reason(first.error) }
            return "cannot resolve host \(error.host)"
        case ChannelError.connectTimeout:
            return "connection timed out"
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ETIMEDOUT: return "connection timed out"
            case EADDRNOTAVAIL: return "address not available"
            case EHOSTUNREACH, ENETUNREACH: return "no route to host"
            default: return "\(error)"
            }
        default:
            return "\(error)"
        }
    }

    /// Sends `command` (`["GET", key]` as bytes) and returns the reply; an error reply
    /// (`-ERR …`) is a value, a broken or silent connection an error.
    func send(_ command: [[UInt8]], timeout: Duration) async throws -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let deadline = NIODeadline.now() + .nanoseconds(Int64(clamping: timeout.clampedNanoseconds))
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            promise.fail(RESPExchangeHandler.Failure.closed("the command could not be sent (\(error))"))
        }
        channel.writeAndFlush(RESPExchangeHandler.Exchange(command: command, deadline: deadline, promise: promise), promise: written)
        do {
            let channel = self.channel
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch let failure as RESPExchangeHandler.Failure {
            try Task.checkCancellation()
            switch failure {
            case .timedOut: throw RESPClientError.timedOut(node: node)
            case .closed(let reason): throw RESPClientError.connectionLost(node: node, reason: reason)
            case .malformed(let detail): throw RESPClientError.malformedReply(detail)
            }
        }
    }

    var isActive: Bool { channel.isActive }

    func close() { channel.close(promise: nil) }
}

/// Why a RESP command failed.
public enum RESPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreachable(node: String, reason: String)
    case timedOut(node: String)
    case connectionLost(node: String, reason: String)
    case malformedReply(String)
    /// The server answered `-…`: its message.
    case refused(String)
    /// A reply of a type the command never answers with.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .unreachable(let node, let reason): "cannot reach \(node): \(reason)"
        case .timedOut(let node): "\(node) did not answer in time"
        case .connectionLost(let node, let reason): "\(node) dropped the connection: \(reason)"
        case .malformedReply(let detail): "malformed reply: \(detail)"
        case .refused(let message): "the server refused the command: \(message)"
        case .unexpectedReply(let reply): "unexpected reply \(reply)"
        }
    }
}
