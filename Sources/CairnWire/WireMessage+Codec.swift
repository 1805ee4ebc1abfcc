import CairnCore
import NIOCore

extension WireMessage {
    /// Appends the payload (not the frame header) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .traced(let context, let message):
            let headers = context.sorted { $0.key < $1.key }
            precondition(Self.isValidTraceContext(context), "a trace context a peer would refuse")
            buffer.writeInteger(UInt8(headers.count))
            for (name, value) in headers {
                buffer.writeWireString(name)
                buffer.writeWireString(value)
            }
            message.encode(into: &buffer)
        case .ack:
            break
        case .nack(let reason):
            buffer.writeWireText(reason)
        case .membership(let message):
            buffer.writeMembership(message)
        case .read(let request):
            buffer.writeWireBytes(request.key)
            buffer.writePartition(request.partition)
        case .readReply(let reply):
            buffer.writeReadReply(reply)
        case .replicate(let replicate), .readRepair(let replicate):
            buffer.writeReplicate(replicate)
        case .forwardedWrite(let write):
            buffer.writeForwardedWrite(write)
        case .scanRequest(let request):
            buffer.writeWireArray(request.partitions) { $0.writePartition($1) }
            buffer.writeWireBytes(request.prefix)
            buffer.writeWireOptional(request.after) { $0.writeWireBytes($1) }
            buffer.writeWireIndex(request.limit)
            buffer.writeWireBool(request.values)
        case .reapCheck(let check):
            buffer.writePartition(check.partition)
            buffer.writeWireArray(check.items) { buffer, item in
                buffer.writeWireBytes(item.key)
                buffer.writeContext(item.history)
            }
        case .reapCheckReply(let flags):
            buffer.writeWireArray(flags) { $0.writeWireBool($1) }
        case .reapNow(let partition, let items):
            buffer.writePartition(partition)
            buffer.writeWireArray(items) { $0.writeKeyedObject($1) }
        case .scanReply(let reply):
            buffer.writeWireArray(reply.items) { buffer, item in
                buffer.writeWireBytes(item.key)
                buffer.writeWireOptional(item.object) { $0.writeObject($1) }
            }
            buffer.writeWireOptional(reply.through) { $0.writeWireBytes($1) }
            buffer.writeWireArray(reply.unavailable) { $0.writePartition($1) }
        case .writeOutcome(let outcome):
            buffer.writeWriteOutcome(outcome)
        case .hintBatch(let items):
            buffer.writeWireArray(items) { buffer, item in
                buffer.writePartition(item.partition)
                buffer.writeWireBytes(item.key)
                buffer.writeObject(item.object)
            }
        case .handoffBatch(let batch):
            buffer.writePartition(batch.partition)
            buffer.writeWireArray(batch.items) { $0.writeKeyedObject($1) }
            buffer.writeWireOptional(batch.cursor) { $0.writeWireBytes($1) }
            buffer.writeWireBool(batch.isLast)
        case .handoffRequest(let partition):
            buffer.writePartition(partition)
        case .leaveRequest(let ringVersion):
            buffer.writeInteger(ringVersion)
        case .commitRequest(let ringVersion):
            buffer.writeInteger(ringVersion)
        case .clockProbe(let sequence, let sentAt):
            buffer.writeInteger(sequence)
            buffer.writeInteger(sentAt.millisecondsSince1970)
        case .clockReply(let sequence, let sentAt, let receivedAt):
            buffer.writeInteger(sequence)
            buffer.writeInteger(sentAt.millisecondsSince1970)
            buffer.writeInteger(receivedAt.millisecondsSince1970)
        case .merkleHashesRequest(let partition, let request):
            buffer.writePartition(partition)
            precondition((0...Int(UInt8.max)).contains(request.level), "Merkle level \(request.level) does not fit u8")
            buffer.writeInteger(UInt8(request.level))
            buffer.writeWireArray(request.indices) { $0.writeWireIndex($1) }
        case .merkleHashes(let hashes):
            buffer.writeWireArray(hashes) { $0.writeInteger($1) }
        case .segmentObjectsRequest(let request):
            buffer.writePartition(request.partition)
            buffer.writeWireArray(request.segments) { $0.writeWireIndex($1) }
            buffer.writeWireOptional(request.after) { $0.writeWireBytes($1) }
        case .segmentObjects(let answer):
            buffer.writeWireArray(answer.items) { $0.writeKeyedObject($1) }
            buffer.writeWireOptional(answer.next) { $0.writeWireBytes($1) }
        case .cas(let key, let message):
            buffer.writeWireBytes(key)
            buffer.writeCASMessage(message)
        case .casStatesRequest(let partition, let after):
            buffer.writePartition(partition)
            buffer.writeWireOptional(after) { $0.writeWireBytes($1) }
        case .casStates(let page):
            buffer.writeWireArray(page.states) { buffer, item in
                buffer.writeWireBytes(item.key)
                buffer.writeAcceptorState(item.state)
            }
            buffer.writeWireOptional(page.next) { $0.writeWireBytes($1) }
            buffer.writeWireBool(page.replicates)
        }
    }

    /// The payload in a buffer of its own.
    public func encodedPayload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }

    /// The message in a frame of the kind its role calls for.
    public func frame(requestID: UInt64, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> Frame {
        Frame(kind: frameKind, messageType: wireType, requestID: requestID, payload: encodedPayload(allocator: allocator))
    }

    /// The message type as a frame carries it: with bit 15 set for a traced request.
    public var wireType: UInt16 {
        if case .traced = self { return messageType.rawValue | Self.tracedTypeBit }
        return messageType.rawValue
    }

    /// Decodes a payload of message type `type`. Strict: unknown types, truncated or trailing
    /// bytes, over-limit counts and malformed fields are `WireError`s, never traps.
    public init(type rawType: UInt16, payload: ByteBuffer, limits: WireLimits = WireLimits()) throws(WireError) {
        let traced = rawType & Self.tracedTypeBit != 0
        guard let type = MessageType(rawValue: rawType & ~Self.tracedTypeBit) else {
            throw WireError(.unknownMessageType, "message type 0x\(String(rawType, radix: 16))")
        }
        var reader = WireReader(payload, limits: limits)
        if traced {
            guard type.role == .request else { throw WireError(.unknownMessageType, "a traced \(type), which is not a request") }
            let count = Int(try reader.u8("trace headers"))
            guard count <= Self.maxTraceHeaders else { throw WireError(.tooLarge, "\(count) trace headers", limit: Self.maxTraceHeaders) }
            var context: [String: String] = [:]
            for _ in 0..<count {
                let name = try reader.string("trace header name")
                let value = try reader.string("trace header value")
                guard Self.isValidTraceContext([name: value]), context.updateValue(value, forKey: name) == nil else {
                    throw WireError(.malformed, "a trace header is not a distinct printable ASCII name (1 to 64 bytes) and value (at most 512)")
                }
            }
            self = .traced(context: context, try Self.decode(type, from: &reader))
        } else {
            self = try Self.decode(type, from: &reader)
        }
        try reader.finish()
    }

    /// Decodes a request, response or one-way frame, checking that the message type belongs to
    /// the frame kind (a response type in a request frame is refused).
    public init(frame: Frame, limits: WireLimits = WireLimits()) throws(WireError) {
        guard let type = MessageType(rawValue: frame.messageType & ~Self.tracedTypeBit) else {
            throw WireError(.unknownMessageType, "message type 0x\(String(frame.messageType, radix: 16))")
        }
        let expected: Frame.Kind = switch type.role {
        case .request: .request
        case .response: .response
        case .oneWay: .oneWay
        }
        guard frame.kind == expected else {
            throw WireError(.unknownMessageType, "message type \(type) in a \(frame.kind) frame")
        }
        try self.init(type: frame.messageType, payload: frame.payload, limits: limits)
    }

    private static func decode(_ type: MessageType, from reader: inout WireReader) throws(WireError) -> WireMessage {
        switch type {
        case .ack:
            return .ack
        case .nack:
            return .nack(reason: try reader.string("reason"))
        case .membershipDigest, .membershipDelta, .membershipUpdate, .membershipHeartbeat, .membershipHeartbeatReply:
            return .membership(try reader.membership(type))
        case .read:
            return .read(ReadRequest(key: try reader.key(), partition: try reader.partition()))
        case .readReply:
            return .readReply(try reader.readReply())
        case .replicate:
            return .replicate(try reader.replicate())
        case .readRepair:
            return .readRepair(try reader.replicate())
        case .forwardedWrite:
            return .forwardedWrite(try reader.forwardedWrite())
        case .scanRequest:
            let partitions = try reader.partitions()
            let prefix = try reader.bytes("prefix", limit: reader.limits.maxKeyBytes)
            let after = try reader.optional("after") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            let limit = Int(try reader.u32("limit"))
            guard (1...reader.limits.maxBatchItems).contains(limit) else {
                throw WireError(.malformed, "scan limit \(limit) outside 1...\(reader.limits.maxBatchItems)")
            }
            return .scanRequest(ScanRequest(partitions: partitions, prefix: prefix, after: after, limit: limit,
                                            values: try reader.bool("values")))
        case .reapCheck:
            let partition = try reader.partition()
            // key (≥ 5 bytes) and context (≥ 5): at least 10 bytes each.
            let items = try reader.array("item", limit: reader.limits.maxBatchItems, minimumElementBytes: 10) {
                (reader: inout WireReader) throws(WireError) in ReapItem(key: try reader.key(), history: try reader.context())
            }
            return .reapCheck(ReapCheck(partition: partition, items: items))
        case .reapCheckReply:
            return .reapCheckReply(try reader.array("flag", limit: reader.limits.maxBatchItems, minimumElementBytes: 1) {
                (reader: inout WireReader) throws(WireError) in try reader.bool("flag")
            })
        case .reapNow:
            let partition = try reader.partition()
            return .reapNow(partition: partition, try reader.keyedObjects())
        case .scanReply:
            // key (≥ 5 bytes) and the optional's flag: at least 6 bytes each.
            let items = try reader.array("item", limit: reader.limits.maxBatchItems, minimumElementBytes: 6) {
                (reader: inout WireReader) throws(WireError) in
                ScanItem(key: try reader.key(), object: try reader.optional("object") {
                    (reader: inout WireReader) throws(WireError) in try reader.object()
                })
            }
            let through = try reader.optional("through") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            return .scanReply(ScanReply(items: items, through: through, unavailable: try reader.partitions()))
        case .writeOutcome:
            return .writeOutcome(try reader.writeOutcome())
        case .hintBatch:
            // partition, key (≥ 5), object (≥ 10): at least 19 bytes each.
            return .hintBatch(try reader.array("hint", limit: reader.limits.maxBatchItems, minimumElementBytes: 19) {
                (reader: inout WireReader) throws(WireError) in
                HintItem(partition: try reader.partition(), key: try reader.key(), object: try reader.object())
            })
        case .handoffBatch:
            let partition = try reader.partition()
            let items = try reader.keyedObjects()
            let cursor = try reader.optional("cursor") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            return .handoffBatch(HandoffBatch(partition: partition, items: items, cursor: cursor, isLast: try reader.bool("last")))
        case .handoffRequest:
            return .handoffRequest(partition: try reader.partition())
        case .leaveRequest:
            return .leaveRequest(ringVersion: try reader.u64("ring version"))
        case .commitRequest:
            return .commitRequest(ringVersion: try reader.u64("ring version"))
        case .clockProbe:
            let sequence = try reader.u64("probe sequence")
            return .clockProbe(sequence: sequence, sentAt: try reader.wallClock("probe time"))
        case .clockReply:
            let sequence = try reader.u64("probe sequence")
            let sentAt = try reader.wallClock("probe time")
            return .clockReply(sequence: sequence, sentAt: sentAt, receivedAt: try reader.wallClock("receipt time"))
        case .merkleHashesRequest:
            let partition = try reader.partition()
            let level = Int(try reader.u8("level"))
            let indices = try reader.indices("index")
            return .merkleHashesRequest(partition: partition, MerkleExchange.Request(level: level, indices: indices))
        case .merkleHashes:
            return .merkleHashes(try reader.array("hash", limit: reader.limits.maxMerkleIndices, minimumElementBytes: 8) {
                (reader: inout WireReader) throws(WireError) in try reader.u64("hash")
            })
        case .segmentObjectsRequest:
            let partition = try reader.partition()
            let segments = try reader.indices("segment")
            let after = try reader.optional("after") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            return .segmentObjectsRequest(SegmentObjectsRequest(partition: partition, segments: segments, after: after))
        case .segmentObjects:
            let items = try reader.keyedObjects()
            let next = try reader.optional("next") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            return .segmentObjects(SegmentObjects(items: items, next: next))
        case .casPrepare, .casPromise, .casPrepareRejected, .casPropose, .casAccepted, .casProposeRejected, .casCommit, .casCommitted:
            let key = try reader.key()
            return .cas(key: key, try reader.casMessage(type))
        case .casStatesRequest:
            let partition = try reader.partition()
            return .casStatesRequest(partition: partition, after: try reader.optional("after") {
                (reader: inout WireReader) throws(WireError) in try reader.key()
            })
        case .casStates:
            // key (≥ 5 bytes), promised ballot (24), accepted flag (1), committed proposal (≥ 37).
            let states = try reader.array("state", limit: reader.limits.maxBatchItems, minimumElementBytes: 67) {
                (reader: inout WireReader) throws(WireError) in
                CAS.KeyedAcceptorState(key: try reader.key(), state: try reader.acceptorState())
            }
            let next = try reader.optional("next") { (reader: inout WireReader) throws(WireError) in try reader.key() }
            return .casStates(CASStatesPage(states: states, next: next, replicates: try reader.bool("replicates")))
        }
    }
}

extension WireReader {
    /// Merkle node indices or segment numbers: u32 each, at most `maxMerkleIndices`.
    mutating func indices(_ what: String) throws(WireError) -> [Int] {
        try array(what, limit: limits.maxMerkleIndices, minimumElementBytes: 4) {
            (reader: inout WireReader) throws(WireError) in Int(try reader.u32(what))
        }
    }

    /// Partition numbers (u32 each), at most `maxMerkleIndices` of them.
    mutating func partitions() throws(WireError) -> [Int] {
        try array("partition", limit: limits.maxMerkleIndices, minimumElementBytes: 4) {
            (reader: inout WireReader) throws(WireError) in try reader.partition()
        }
    }

    /// key (≥ 5 bytes) and object (≥ 10): at least 15 bytes each.
    mutating func keyedObjects() throws(WireError) -> [KeyedObject] {
        try array("item", limit: limits.maxBatchItems, minimumElementBytes: 15) {
            (reader: inout WireReader) throws(WireError) in KeyedObject(key: try reader.key(), object: try reader.object())
        }
    }
}

extension ByteBuffer {
    mutating func writeKeyedObject(_ item: KeyedObject) {
        writeWireBytes(item.key)
        writeObject(item.object)
    }

    mutating func writeWireIndex(_ index: Int) {
        precondition(index >= 0 && index <= Int(UInt32.max), "index \(index) does not fit u32")
        writeInteger(UInt32(index))
    }

    /// Free text (reasons, error messages): cut at `maxTextBytes` on a character boundary, so
    /// a long error description can never make a message fail to encode or decode.
    mutating func writeWireText(_ text: String) {
        writeWireString(WireText.clipped(text))
    }
}

/// Free text in messages is clipped to this many UTF-8 bytes.
enum WireText {
    static let maxBytes = 1024

    static func clipped(_ text: String) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            guard used + size <= maxBytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}
