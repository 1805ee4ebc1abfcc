import CairnCore
import NIOCore

// Quorum data path payloads: reads, replication, forwarded writes and their outcomes.
// Layouts in docs/protocol.md.

extension ByteBuffer {
    mutating func writeReadReply(_ reply: ReadReply) {
        switch reply {
        case .notFound:
            writeInteger(UInt8(0))
        case .found(let object):
            writeInteger(UInt8(1))
            writeObject(object)
        case .failed(let reason):
            writeInteger(UInt8(2))
            writeWireText(reason)
        }
    }

    mutating func writeReplicate(_ replicate: Replicate) {
        writeWireBytes(replicate.key)
        writePartition(replicate.partition)
        writeObject(replicate.object)
        writeWireOptional(replicate.hintFor) { $0.writeNodeID($1) }
    }

    mutating func writeForwardedWrite(_ write: ForwardedWrite) {
        writeWireBytes(write.key)
        writeContext(write.context)
        writeSibling(write.sibling)
        writeWireCount(write.w)
        writeWireCount(write.n)
        writeInteger(write.timeoutMilliseconds)
        writeNodeID(write.forwardedBy)
        writeInteger(write.forwardID)
    }

    /// u8 flags (bit 0 tombstone, bit 1 has expiry) | u64 expiry if bit 1 | value bytes unless a tombstone.
    mutating func writeSibling(_ sibling: Sibling<[UInt8]>) {
        var flags: UInt8 = 0
        if sibling.content == .tombstone { flags |= WireSibling.tombstoneFlag }
        let expiry = sibling.expiry?.millisecondsSince1970 ?? 0
        if expiry != 0 { flags |= WireSibling.expiryFlag }
        writeInteger(flags)
        if expiry != 0 { writeInteger(expiry) }
        if case .value(let bytes) = sibling.content { writeWireBytes(bytes) }
    }

    mutating func writeWriteOutcome(_ outcome: WriteOutcome) {
        switch outcome {
        case .stored(let context):
            writeInteger(UInt8(1))
            writeContext(context)
        case .failed(let failure):
            writeInteger(UInt8(2))
            writeInteger(failure.keyHash.value)
            writeFailureReason(failure.reason)
        }
    }

    mutating func writeFailureReason(_ reason: Quorum.Failure.Reason) {
        switch reason {
        case .invalidQuorum(let required, let n):
            writeInteger(UInt8(1))
            writeWireInt(required)
            writeWireInt(n)
        case .tooFewReachable(let reachable, let required):
            writeInteger(UInt8(2))
            writeWireInt(reachable)
            writeWireInt(required)
        case .timedOut(let received, let required):
            writeInteger(UInt8(3))
            writeWireInt(received)
            writeWireInt(required)
        case .tooFewSucceeded(let succeeded, let failed, let required):
            writeInteger(UInt8(4))
            writeWireInt(succeeded)
            writeWireInt(failed)
            writeWireInt(required)
        case .rejected(let error):
            writeInteger(UInt8(5))
            writeInteger(WireVersionErrorCode.byte(for: error.code))
            writeWireText(error.message)
            writeWireOptional(error.offset) { $0.writeWireInt($1) }
            writeWireOptional(error.limit) { $0.writeWireInt($1) }
        case .localStoreFailed(let message):
            writeInteger(UInt8(6))
            writeWireText(message)
        case .coordinatorNotTarget(let forwardedBy):
            writeInteger(UInt8(7))
            writeWireOptional(forwardedBy) { $0.writeNodeID($1) }
        }
    }
}

enum WireSibling {
    static let tombstoneFlag: UInt8 = 0x01
    static let expiryFlag: UInt8 = 0x02
}

/// `VersionError.Code` on the wire: a fixed byte per code, independent of declaration order.
enum WireVersionErrorCode {
    static let table: [(VersionError.Code, UInt8)] = [
        (.siblingLimitExceeded, 1), (.counterExhausted, 2), (.truncated, 3), (.unsupportedVersion, 4), (.casManaged, 8),
        (.wrongKind, 5), (.tooLarge, 6), (.malformed, 7),
    ]

    static func byte(for code: VersionError.Code) -> UInt8 {
        table.first { $0.0 == code }!.1
    }

    static func code(for byte: UInt8) -> VersionError.Code? {
        table.first { $0.1 == byte }?.0
    }
}

extension WireReader {
    mutating func readReply() throws(WireError) -> ReadReply {
        let at = offset
        switch try u8("read reply tag") {
        case 0: return .notFound
        case 1: return .found(try object())
        case 2: return .failed(reason: try string("reason"))
        case let tag: throw error(.malformed, "read reply tag \(tag)", at: at)
        }
    }

    mutating func replicate() throws(WireError) -> Replicate {
        let key = try self.key()
        let partition = try self.partition()
        let object = try self.object()
        let hintFor = try optional("hint for") { (reader: inout WireReader) throws(WireError) in try reader.nodeID("hint for") }
        return Replicate(key: key, partition: partition, object: object, hintFor: hintFor)
    }

    mutating func forwardedWrite() throws(WireError) -> ForwardedWrite {
        let key = try self.key()
        let context = try self.context()
        let sibling = try self.sibling()
        let w = Int(try u32("w"))
        let n = Int(try u32("n"))
        let timeout = try u64("timeout")
        return ForwardedWrite(
            key: key, context: context, sibling: sibling, w: w, n: n, timeoutMilliseconds: timeout,
            forwardedBy: try nodeID("forwarded by"), forwardID: try u64("forward id"))
    }

    mutating func sibling() throws(WireError) -> Sibling<[UInt8]> {
        let at = offset
        let flags = try u8("sibling flags")
        guard flags & ~(WireSibling.tombstoneFlag | WireSibling.expiryFlag) == 0 else {
            throw error(.malformed, "sibling flags \(flags)", at: at)
        }
        var expiry: WallClockTime?
        if flags & WireSibling.expiryFlag != 0 {
            let expiryAt = offset
            let instant = try wallClock("expiry")
            guard instant.millisecondsSince1970 != 0 else { throw error(.malformed, "expiry flag with expiry 0", at: expiryAt) }
            expiry = instant
        }
        if flags & WireSibling.tombstoneFlag != 0 {
            return Sibling(.tombstone, expiry: expiry)
        }
        return Sibling(.value(try bytes("value", limit: limits.objectLimits.maxValueBytes)), expiry: expiry)
    }

    mutating func writeOutcome() throws(WireError) -> WriteOutcome {
        let at = offset
        switch try u8("outcome tag") {
        case 1:
            return .stored(context: try context())
        case 2:
            let keyHash = KeyHash(try u64("key hash"))
            return .failed(Quorum.Failure(keyHash: keyHash, reason: try failureReason()))
        case let tag:
            throw error(.malformed, "write outcome tag \(tag)", at: at)
        }
    }

    mutating func failureReason() throws(WireError) -> Quorum.Failure.Reason {
        let at = offset
        switch try u8("failure reason tag") {
        case 1:
            return .invalidQuorum(required: try int("required"), n: try int("n"))
        case 2:
            return .tooFewReachable(reachable: try int("reachable"), required: try int("required"))
        case 3:
            return .timedOut(received: try int("received"), required: try int("required"))
        case 4:
            return .tooFewSucceeded(succeeded: try int("succeeded"), failed: try int("failed"), required: try int("required"))
        case 5:
            let codeAt = offset
            let byte = try u8("version error code")
            guard let code = WireVersionErrorCode.code(for: byte) else {
                throw error(.malformed, "version error code \(byte)", at: codeAt)
            }
            let message = try string("version error message")
            let errorOffset = try optional("offset") { (reader: inout WireReader) throws(WireError) in try reader.int("offset") }
            let limit = try optional("limit") { (reader: inout WireReader) throws(WireError) in try reader.int("limit") }
            return .rejected(VersionError(code, message, offset: errorOffset, limit: limit))
        case 6:
            return .localStoreFailed(message: try string("message"))
        case 7:
            return .coordinatorNotTarget(forwardedBy: try optional("forwarded by") {
                (reader: inout WireReader) throws(WireError) in try reader.nodeID("forwarded by")
            })
        case let tag:
            throw error(.malformed, "failure reason tag \(tag)", at: at)
        }
    }
}
