import CairnCore
import NIOCore

/// Handshake frames: message type 1 hello, 2 proof, 3 refusal; request id 0.
///
/// ```
///   hello:    magic "CRNW" (4) | u16 version | u8 flags (bit 0: requires proof)
///             | u16 len cluster name | node (16) | u16 len listen address | nonce (32)
///   proof:    u16 length (1...64) | proof bytes
///   refusal:  u8 reason | u16 len detail
/// ```
///
/// Magic and version come first and keep their place in every future version, so a peer can
/// refuse an unknown protocol or version before it reads anything else.
extension Handshake.Message {
    enum TypeCode: UInt16 {
        case hello = 1
        case proof = 2
        case refusal = 3
    }

    static let maxProofBytes = 64

    public func frame(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> Frame {
        var payload = allocator.buffer(capacity: 96)
        let type: TypeCode
        switch self {
        case .hello(let hello):
            type = .hello
            payload.writeBytes(Handshake.magic)
            payload.writeInteger(hello.version)
            payload.writeInteger(UInt8(hello.requiresProof ? 1 : 0))
            payload.writeWireString(hello.clusterName)
            payload.writeNodeID(hello.node)
            payload.writeWireString(hello.listenAddress)
            precondition(hello.nonce.count == Handshake.nonceBytes, "nonce of \(hello.nonce.count) bytes")
            payload.writeBytes(hello.nonce)
        case .proof(let proof):
            type = .proof
            precondition((1...Self.maxProofBytes).contains(proof.count), "proof of \(proof.count) bytes")
            payload.writeInteger(UInt16(proof.count))
            payload.writeBytes(proof)
        case .refusal(let refusal):
            type = .refusal
            payload.writeInteger(refusal.reason.rawValue)
            payload.writeWireText(refusal.detail)
        }
        return Frame(kind: .handshake, messageType: type.rawValue, requestID: 0, payload: payload)
    }

    /// Decodes a handshake frame. A wrong magic or a version other than `expectedVersion`
    /// comes back as the refusal to send; anything else malformed as a `malformed` refusal.
    public init(
        frame: Frame, limits: WireLimits = WireLimits(), expectedVersion: UInt16 = Handshake.protocolVersion
    ) throws(Handshake.Refusal) {
        guard frame.kind == .handshake, frame.requestID == 0, let type = TypeCode(rawValue: frame.messageType) else {
            throw Handshake.Refusal(.unexpectedFrame, "\(frame.kind) frame of type \(frame.messageType) during the handshake")
        }
        var reader = WireReader(frame.payload, limits: limits)
        switch type {
        case .hello:
            let magic = reader.buffer.getBytes(at: reader.buffer.readerIndex, length: Handshake.magic.count)
            guard magic == Handshake.magic else {
                throw Handshake.Refusal(.wrongMagic, "hello starts with \(magic ?? []) instead of CRNW")
            }
            let version = frame.payload.getInteger(at: frame.payload.readerIndex + Handshake.magic.count, as: UInt16.self)
            guard version == expectedVersion else {
                throw Handshake.Refusal(
                    .unsupportedVersion, "peer speaks version \(version.map(String.init) ?? "?"), this node \(expectedVersion)")
            }
            self = .hello(try Self.malformedAsRefusal(type) { () throws(WireError) in try Self.hello(&reader) })
        case .proof:
            self = .proof(try Self.malformedAsRefusal(type) { () throws(WireError) in
                let at = reader.offset
                let length = Int(try reader.u16("proof length"))
                guard (1...Self.maxProofBytes).contains(length) else {
                    throw reader.error(.malformed, "proof of \(length) bytes", at: at)
                }
                return try reader.raw("proof", length: length)
            })
        case .refusal:
            self = .refusal(try Self.malformedAsRefusal(type) { () throws(WireError) in
                let raw = try reader.u8("refusal reason")
                let reason = Handshake.Refusal.Reason(rawValue: raw) ?? .unknown
                return Handshake.Refusal(reason, try reader.string("refusal detail"))
            })
        }
        try Self.malformedAsRefusal(type) { () throws(WireError) in try reader.finish() }
    }

    private static func malformedAsRefusal<T>(_ type: TypeCode, _ body: () throws(WireError) -> T) throws(Handshake.Refusal) -> T {
        do {
            return try body()
        } catch {
            throw Handshake.Refusal(.malformed, "handshake \(type): \(error)")
        }
    }

    /// The hello after its magic and version were checked.
    private static func hello(_ reader: inout WireReader) throws(WireError) -> Handshake.Hello {
        _ = try reader.raw("magic", length: Handshake.magic.count)
        let version = try reader.u16("version")
        let flagsAt = reader.offset
        let flags = try reader.u8("flags")
        guard flags & ~1 == 0 else { throw reader.error(.malformed, "hello flags \(flags)", at: flagsAt) }
        let cluster = try reader.string("cluster name")
        let node = try reader.nodeID()
        let address = try reader.string("listen address")
        let nonce = try reader.raw("nonce", length: Handshake.nonceBytes)
        return Handshake.Hello(
            version: version, clusterName: cluster, node: node, listenAddress: address, nonce: nonce,
            requiresProof: flags & 1 != 0)
    }
}
