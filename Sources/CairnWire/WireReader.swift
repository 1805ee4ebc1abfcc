import CairnCore
import NIOCore

/// Reads the fields of one message payload strictly: every problem is a `WireError` carrying
/// the payload offset, every count and length is checked against its limit and against the
/// bytes left before anything is allocated, and `finish()` refuses trailing bytes.
///
/// Fixed-width integers are big-endian (network order, ByteBuffer's default).
struct WireReader {
    private(set) var buffer: ByteBuffer
    let limits: WireLimits
    private let startIndex: Int

    init(_ buffer: ByteBuffer, limits: WireLimits) {
        self.buffer = buffer
        self.limits = limits
        self.startIndex = buffer.readerIndex
    }

    var offset: Int { buffer.readerIndex - startIndex }
    var remaining: Int { buffer.readableBytes }

    func error(_ code: WireError.Code, _ message: String, at offset: Int? = nil, limit: Int? = nil) -> WireError {
        WireError(code, message, offset: offset ?? self.offset, limit: limit)
    }

    mutating func finish() throws(WireError) {
        guard remaining == 0 else { throw error(.trailingBytes, "\(remaining) bytes after the message") }
    }

    mutating func integer<T: FixedWidthInteger>(_ what: String, as: T.Type = T.self) throws(WireError) -> T {
        guard let value = buffer.readInteger(as: T.self) else {
            throw error(.truncated, "\(what): need \(MemoryLayout<T>.size) bytes, have \(remaining)")
        }
        return value
    }

    mutating func u8(_ what: String) throws(WireError) -> UInt8 { try integer(what) }
    mutating func u16(_ what: String) throws(WireError) -> UInt16 { try integer(what) }
    mutating func u32(_ what: String) throws(WireError) -> UInt32 { try integer(what) }
    mutating func u64(_ what: String) throws(WireError) -> UInt64 { try integer(what) }

    /// A logical clock taken from a peer (an incarnation, a ring version, a ballot counter): at
    /// most `WireLimits.maxLogicalClock`, so that the next value (`+ 1`) never traps and a forged
    /// value cannot exhaust a clock that must keep growing.
    mutating func logicalClock(_ what: String) throws(WireError) -> UInt64 {
        let at = offset
        let value = try u64(what)
        guard value <= WireLimits.maxLogicalClock else {
            throw error(.malformed, "\(what) \(value) above \(WireLimits.maxLogicalClock)", at: at)
        }
        return value
    }

    /// A wall-clock instant in milliseconds since 1970: at most the end of the year 9999.
    mutating func wallClock(_ what: String) throws(WireError) -> WallClockTime {
        let at = offset
        let value = try u64(what)
        guard value <= WallClockTime.maxMillisecondsSince1970 else {
            throw error(.malformed, "\(what) \(value) ms is after the year 9999", at: at)
        }
        return WallClockTime(millisecondsSince1970: value)
    }

    /// A signed 64-bit integer as an `Int` (counts and sizes inside failure reasons).
    mutating func int(_ what: String) throws(WireError) -> Int {
        let at = offset
        let value: Int64 = try integer(what)
        guard let result = Int(exactly: value) else { throw error(.malformed, "\(what) \(value) out of range", at: at) }
        return result
    }

    /// 0 or 1; any other byte is malformed (one encoding per value).
    mutating func bool(_ what: String) throws(WireError) -> Bool {
        let at = offset
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let other: throw error(.malformed, "\(what): boolean byte \(other)", at: at)
        }
    }

    /// A u32 count of elements that each take at least `minimumElementBytes`, at most `limit`.
    mutating func count(_ what: String, limit: Int, minimumElementBytes: Int) throws(WireError) -> Int {
        let at = offset
        let value = Int(try u32(what))
        guard value <= limit else { throw error(.tooLarge, "\(what) \(value)", at: at, limit: limit) }
        guard value <= remaining / max(minimumElementBytes, 1) else {
            throw error(.truncated, "\(what) \(value) needs at least \(value * minimumElementBytes) bytes, have \(remaining)", at: at)
        }
        return value
    }

    /// `length` raw bytes.
    mutating func raw(_ what: String, length: Int) throws(WireError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: length) else {
            throw error(.truncated, "\(what): need \(length) bytes, have \(remaining)")
        }
        return bytes
    }

    /// A u32 length and that many bytes, the length at most `limit`.
    mutating func bytes(_ what: String, limit: Int) throws(WireError) -> [UInt8] {
        let length = try count("\(what) length", limit: limit, minimumElementBytes: 1)
        return try raw(what, length: length)
    }

    /// A key: 1...`maxKeyBytes` bytes.
    mutating func key() throws(WireError) -> [UInt8] {
        let at = offset
        let key = try bytes("key", limit: limits.maxKeyBytes)
        guard !key.isEmpty else { throw error(.malformed, "empty key", at: at) }
        return key
    }

    /// A u16 length and valid UTF-8, at most `maxStringBytes`.
    mutating func string(_ what: String) throws(WireError) -> String {
        let at = offset
        let length = Int(try u16("\(what) length"))
        guard length <= limits.maxStringBytes else {
            throw error(.tooLarge, "\(what) of \(length) bytes", at: at, limit: limits.maxStringBytes)
        }
        let bytes = try raw(what, length: length)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw error(.malformed, "\(what) is not valid UTF-8", at: at)
        }
        return text
    }

    mutating func nodeID(_ what: String = "node") throws(WireError) -> NodeID {
        let bytes = try raw(what, length: 16)
        return NodeID(bytes: bytes)!
    }

    /// A partition number, below `Ring.maximumPartitionCount`.
    mutating func partition() throws(WireError) -> Int {
        let at = offset
        let value = Int(try u32("partition"))
        guard value < Ring.maximumPartitionCount else {
            throw error(.malformed, "partition \(value)", at: at, limit: Ring.maximumPartitionCount - 1)
        }
        return value
    }

    /// A presence byte (0 absent, 1 present) and, when present, the value.
    mutating func optional<T>(_ what: String, _ body: (inout WireReader) throws(WireError) -> T) throws(WireError) -> T? {
        try bool("\(what) present") ? try body(&self) : nil
    }

    /// A u32 count and that many elements, each at least `minimumElementBytes`.
    mutating func array<T>(
        _ what: String, limit: Int, minimumElementBytes: Int, _ body: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        let n = try count("\(what) count", limit: limit, minimumElementBytes: minimumElementBytes)
        var result: [T] = []
        result.reserveCapacity(n)
        for _ in 0..<n { result.append(try body(&self)) }
        return result
    }

    /// An object in CairnCore's strict DVVSet encoding, behind a u32 length.
    mutating func object() throws(WireError) -> DVVSet<[UInt8]> {
        let at = offset
        let bytes = try bytes("object", limit: limits.objectLimits.maxEncodedBytes)
        do {
            return try DVVSet(decoding: bytes, limits: limits.objectLimits)
        } catch {
            throw self.error(.badObject, "object: \(error)", at: at)
        }
    }

    /// A causal context in CairnCore's strict encoding, behind a u32 length.
    mutating func context() throws(WireError) -> CausalContext {
        let at = offset
        let bytes = try bytes("context", limit: CausalContext.defaultMaxEncodedBytes)
        do {
            return try CausalContext(decoding: bytes)
        } catch {
            throw self.error(.badObject, "context: \(error)", at: at)
        }
    }
}

/// The writing side of `WireReader`'s formats.
extension ByteBuffer {
    mutating func writeWireBool(_ value: Bool) { writeInteger(UInt8(value ? 1 : 0)) }

    mutating func writeWireInt(_ value: Int) { writeInteger(Int64(value)) }

    mutating func writeWireCount(_ count: Int) {
        precondition(count >= 0 && count <= Int(UInt32.max), "count \(count) does not fit u32")
        writeInteger(UInt32(count))
    }

    mutating func writeWireBytes(_ bytes: [UInt8]) {
        writeWireCount(bytes.count)
        writeBytes(bytes)
    }

    mutating func writeWireString(_ text: String) {
        let utf8 = text.utf8
        precondition(utf8.count <= Int(UInt16.max), "string of \(utf8.count) bytes does not fit a u16 length")
        writeInteger(UInt16(utf8.count))
        writeBytes(utf8)
    }

    mutating func writeNodeID(_ node: NodeID) { writeBytes(node.bytes) }

    mutating func writePartition(_ partition: Int) {
        precondition(partition >= 0 && partition < Ring.maximumPartitionCount, "partition \(partition) out of range")
        writeInteger(UInt32(partition))
    }

    mutating func writeWireOptional<T>(_ value: T?, _ body: (inout ByteBuffer, T) -> Void) {
        writeWireBool(value != nil)
        if let value { body(&self, value) }
    }

    mutating func writeWireArray<T>(_ values: [T], _ body: (inout ByteBuffer, T) -> Void) {
        writeWireCount(values.count)
        for value in values { body(&self, value) }
    }

    mutating func writeObject(_ object: DVVSet<[UInt8]>) { writeWireBytes(object.encode()) }

    mutating func writeContext(_ context: CausalContext) { writeWireBytes(context.encode()) }
}
