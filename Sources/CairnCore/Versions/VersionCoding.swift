/// Byte-level pieces shared by the `DVVSet` and `CausalContext` encodings.
///
/// Layout of both (all multi-byte fixed fields little-endian, `varint` = unsigned LEB128,
/// minimal length, at most 10 bytes):
///
/// ```
///   +---------+------+----------------+------------------------------+
///   | version | kind | body length    | body (body length bytes)     |
///   |   u8    |  u8  | u32 LE         |                              |
///   +---------+------+----------------+------------------------------+
///   version = 1; kind = 1 DVVSet, 2 causal context
/// ```
///
/// The length prefix lets a reader check the size against its limit before looking at the
/// body and lets encodings be stored or framed without another length. Decoding is strict, so
/// every value has exactly one encoding and equal objects hash equal in the Merkle trees.
enum VersionCoding {
    static let formatVersion: UInt8 = 1
    static let headerBytes = 6

    enum Kind: UInt8 {
        case dvvSet = 1
        case causalContext = 2
    }

    /// Appends encoded fields to a byte array.
    struct Writer {
        var bytes: [UInt8] = []

        mutating func byte(_ value: UInt8) { bytes.append(value) }

        mutating func varint(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

        /// node (16 bytes, big-endian, as `NodeID.bytes`) | varint epoch
        mutating func actor(_ actor: ReplicaActor) {
            raw(actor.node.bytes)
            varint(actor.epoch)
        }

        /// Wraps `body` in the header.
        static func framed(kind: Kind, body: [UInt8]) -> [UInt8] {
            precondition(body.count <= Int(UInt32.max), "encoding body of \(body.count) bytes exceeds u32")
            var out: [UInt8] = [formatVersion, kind.rawValue]
            out.reserveCapacity(headerBytes + body.count)
            let length = UInt32(body.count)
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
            out.append(contentsOf: body)
            return out
        }
    }

    /// Reads encoded fields, reporting every problem as a `VersionError` with its offset.
    struct Reader {
        let bytes: [UInt8]
        private(set) var offset: Int
        let end: Int

        /// Checks the header (version, kind, length, size limit) and positions at the body.
        init(framed bytes: [UInt8], kind: Kind, maxEncodedBytes: Int) throws(VersionError) {
            self.bytes = bytes
            guard bytes.count <= maxEncodedBytes else {
                throw VersionError(.tooLarge, "encoding of \(bytes.count) bytes", offset: 0, limit: maxEncodedBytes)
            }
            guard bytes.count >= headerBytes else {
                throw VersionError(.truncated, "header needs \(headerBytes) bytes, have \(bytes.count)", offset: bytes.count)
            }
            guard bytes[0] == formatVersion else {
                throw VersionError(.unsupportedVersion, "format version \(bytes[0])", offset: 0)
            }
            guard bytes[1] == kind.rawValue else {
                throw VersionError(.wrongKind, "kind \(bytes[1]), expected \(kind.rawValue)", offset: 1)
            }
            var length = 0
            for i in 0..<4 { length |= Int(bytes[2 + i]) << (8 * i) }
            let available = bytes.count - VersionCoding.headerBytes
            guard length <= available else {
                throw VersionError(.truncated, "body of \(length) bytes, have \(available)", offset: bytes.count)
            }
            guard length == available else {
                throw VersionError(.malformed, "\(available - length) bytes after the body", offset: VersionCoding.headerBytes + length)
            }
            offset = VersionCoding.headerBytes
            end = bytes.count
        }

        var remaining: Int { end - offset }

        mutating func byte() throws(VersionError) -> UInt8 {
            guard offset < end else { throw VersionError(.truncated, "expected a byte", offset: offset) }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws(VersionError) -> UInt64 {
            let start = offset
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < end else { throw VersionError(.truncated, "unterminated number", offset: start) }
                let b = bytes[offset]
                offset += 1
                let payload = UInt64(b & 0x7F)
                if shift == 63 && payload > 1 {
                    throw VersionError(.malformed, "number overflows 64 bits", offset: start)
                }
                value |= payload << shift
                if b & 0x80 == 0 {
                    if b == 0 && shift > 0 { throw VersionError(.malformed, "number not minimally encoded", offset: start) }
                    return value
                }
                shift += 7
                if shift > 63 { throw VersionError(.malformed, "number longer than 10 bytes", offset: start) }
            }
        }

        /// A varint that must be at most `limit`; `what` names it in the error.
        mutating func count(_ what: String, limit: Int) throws(VersionError) -> Int {
            let start = offset
            let value = try varint()
            guard value <= UInt64(max(limit, 0)) else {
                throw VersionError(.tooLarge, "\(what) \(value)", offset: start, limit: limit)
            }
            return Int(value)
        }

        mutating func raw(_ count: Int) throws(VersionError) -> [UInt8] {
            guard count <= remaining else {
                throw VersionError(.truncated, "expected \(count) bytes, have \(remaining)", offset: offset)
            }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func actor() throws(VersionError) -> ReplicaActor {
            let nodeOffset = offset
            guard let node = NodeID(bytes: try raw(16)) else {
                throw VersionError(.malformed, "node identity", offset: nodeOffset)
            }
            return ReplicaActor(node: node, epoch: try varint())
        }

        /// A counter in `1...Dot.maxCounter`.
        mutating func counter() throws(VersionError) -> UInt64 {
            let start = offset
            let value = try varint()
            guard value >= 1, value <= Dot.maxCounter else {
                throw VersionError(.malformed, "counter \(value) outside 1...\(Dot.maxCounter)", offset: start)
            }
            return value
        }
    }
}
