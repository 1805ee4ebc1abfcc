import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnRESP
import CairnWire
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import CairnNode
@testable import CairnStorage

/// The decoders a peer, a client or a disk feeds, each as a function of arbitrary bytes that
/// must return (accepting or refusing) and never trap. `Scripts/fuzz.sh TARGET` runs one under
/// libFuzzer (docs/security.md, "Fuzzing").
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "http": http,
        "json": json,
        "resp": resp,
        "wire": wire,
        "handshake": handshake,
        "dvvset": dvvset,
        "context": context,
        "replica-record": replicaRecord,
        "storage-record": storageRecord,
        "core": core,
    ]

    /// Bytes on the HTTP port: NIOHTTP1's decoder, then Cairn's request parsing of every
    /// request it yields.
    static func http(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        defer { _ = try? channel.finish() }
        guard (try? channel.writeInbound(ByteBuffer(bytes: bytes))) != nil else { return }
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let next): head = next; body = []
            case .body(let buffer): body += buffer.readableBytesView
            case .end:
                if let head { _ = try? APIRequest.parse(head: head, body: body, limits: APILimits(), replicationFactor: 3) }
                head = nil
            }
        }
    }

    /// A JSON body.
    static func json(_ bytes: [UInt8]) {
        _ = try? JSONParser.parse(bytes)
    }

    /// Bytes on the Redis port: the incremental parser, then each command's parsing.
    static func resp(_ bytes: [UInt8]) {
        var parser = RESPParser(limits: RESPLimits())
        var buffer = ByteBuffer(bytes: bytes)
        while let outcome = parser.next(&buffer) {
            guard case .command(let arguments) = outcome else {
                if case .refused = outcome { continue }
                return
            }
            _ = try? RESPCommand.parse(arguments, limits: RESPLimits())
        }
    }

    /// Bytes on the internode port after the handshake: frames, then each message.
    static func wire(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        while let frame = try? FrameDecoder.decodeFrame(from: &buffer, maxFrameBytes: WireLimits.defaultMaxFrameBytes) {
            if frame.kind == .error {
                _ = try? ErrorReply(decoding: frame.payload)
            } else {
                _ = try? WireMessage(frame: frame)
            }
        }
    }

    static let secret = ClusterSecretForFuzz()

    /// The handshake: frames fed to both roles' state machines, with and without a secret.
    static func handshake(_ bytes: [UInt8]) {
        for (role, authenticator) in [(Handshake.Role.initiator, nil), (.acceptor, secret)] as [(Handshake.Role, (any Handshake.Authenticator)?)] {
            var machine = Handshake.Machine(
                role: role, configuration: Handshake.Configuration(
                    clusterName: "fuzz", node: NodeID(high: 1, low: 1), listenAddress: "127.0.0.1:7070", authenticator: authenticator),
                nonce: Array(repeating: 7, count: Handshake.nonceBytes))
            _ = machine.start()
            var buffer = ByteBuffer(bytes: bytes)
            // As the shell (HandshakeHandler) does: frames after the handshake are not its.
            while !machine.isClosed, !machine.isEstablished, let frame = try? FrameDecoder.decodeFrame(from: &buffer, maxFrameBytes: WireLimits.defaultMaxFrameBytes) {
                _ = try? Handshake.Message(frame: frame)
                _ = machine.receive(frame)
            }
        }
    }

    /// A stored or replicated object.
    static func dvvset(_ bytes: [UInt8]) {
        guard let object = try? DVVSet<[UInt8]>(decoding: bytes) else { return }
        // What decodes must encode back to the same bytes (one encoding per value) and merge.
        precondition(object.encode() == bytes, "a decoded object re-encodes differently")
        _ = DVVSet.sync(object, object)
        _ = object.join()
    }

    /// A client's context token: the seal, then the context.
    static func context(_ bytes: [UInt8]) {
        _ = try? ContextSeal.unconfigured.open(bytes)
        if let context = try? CausalContext(decoding: bytes) {
            precondition(context.encode() == bytes, "a decoded context re-encodes differently")
        }
    }

    /// A replica's record in a partition's engine, a hint's, a commit log entry.
    static func replicaRecord(_ bytes: [UInt8]) {
        _ = try? ReplicaStore.decode(bytes, partition: 0)
        _ = HintStore.decode(id: 1, bytes)
        _ = CommitLog.decode(bytes)
    }

    /// A data file as a crash or a bad disk may leave it: recovery of an engine whose one data
    /// file holds these bytes must open (skipping what is corrupt) or refuse, never trap.
    static func storageRecord(_ bytes: [UInt8]) {
        StorageFuzz.recover(bytes)
    }

    /// Decoded peer messages fed to a node's core, from a member and from a stranger: the
    /// semantic target (membership, Paxos, the data path).
    static func core(_ bytes: [UInt8]) {
        CoreFuzz.feed(bytes)
    }
}

/// Storage engines opened by the targets log only what is critical: a fuzzer runs thousands a second.
let quietLogger: Logger = {
    var logger = Logger(label: "cairn.fuzz")
    logger.logLevel = .critical
    return logger
}()

/// The cluster secret of the handshake target.
struct ClusterSecretForFuzz: Handshake.Authenticator {
    func proof(for transcript: [UInt8]) -> [UInt8] { Array(transcript.prefix(32)) + Array(repeating: 1, count: max(0, 32 - transcript.count)) }
    func isValid(_ proof: [UInt8], for transcript: [UInt8]) -> Bool { proof == self.proof(for: transcript) }
}
