/// Bounds on what `DVVSet(decoding:)` accepts, so hostile or corrupt bytes cannot make a node
/// allocate without limit. Sized well above what the write path produces: `sync` may gather
/// more siblings than the client-path cap (each coordinator checks only its own write), and an
/// object that is stored but does not decode would be data lost.
public struct DVVSetDecodingLimits: Hashable, Sendable {
    /// The whole encoding, header included.
    public var maxEncodedBytes: Int
    /// Actors in the history.
    public var maxEntries: Int
    /// Siblings over all actors.
    public var maxSiblings: Int
    /// One sibling's value.
    public var maxValueBytes: Int

    public init(
        maxEncodedBytes: Int = 256 << 20, maxEntries: Int = 4096, maxSiblings: Int = 4096,
        maxValueBytes: Int = 64 << 20
    ) {
        self.maxEncodedBytes = maxEncodedBytes
        self.maxEntries = maxEntries
        self.maxSiblings = maxSiblings
        self.maxValueBytes = maxValueBytes
    }
}

/// The binary form of a stored object (`docs/versioning.md`, "Encoding").
///
/// After the header of `VersionCoding` (kind 1), the body is
///
/// ```
///   varint entry count
///   per entry, sorted by actor, actors distinct:
///     node (16 bytes, big-endian) | varint epoch (64 bits) | varint counter (1…2^62) | varint sibling count (≤ counter)
///     per sibling, oldest first:
///       u8 flags: bit 0 tombstone, bit 1 has expiry; other bits 0
///       varint expiry ms          if bit 1 (never 0)
///       varint length | bytes     if not a tombstone
/// ```
extension DVVSet where Value == [UInt8] {
    static let tombstoneFlag: UInt8 = 0x01
    static let expiryFlag: UInt8 = 0x02

    /// The canonical encoding: equal objects encode to equal bytes.
    public func encode() -> [UInt8] {
        var writer = VersionCoding.Writer()
        writer.varint(UInt64(entries.count))
        for entry in entries {
            writer.actor(entry.actor)
            writer.varint(entry.counter)
            writer.varint(UInt64(entry.siblings.count))
            for sibling in entry.siblings {
                var flags: UInt8 = 0
                if sibling.content == .tombstone { flags |= Self.tombstoneFlag }
                let expiry = sibling.expiry?.millisecondsSince1970 ?? 0
                if expiry != 0 { flags |= Self.expiryFlag }
                writer.byte(flags)
                if expiry != 0 { writer.varint(expiry) }
                if case .value(let bytes) = sibling.content {
                    writer.varint(UInt64(bytes.count))
                    writer.raw(bytes)
                }
            }
        }
        return VersionCoding.Writer.framed(kind: .dvvSet, body: writer.bytes)
    }

    /// Decodes an encoding made by `encode()`; anything else throws a `VersionError`, never traps.
    public init(decoding bytes: [UInt8], limits: DVVSetDecodingLimits = DVVSetDecodingLimits()) throws(VersionError) {
        var reader = try VersionCoding.Reader(framed: bytes, kind: .dvvSet, maxEncodedBytes: limits.maxEncodedBytes)
        // Each entry takes at least 19 bytes and each sibling 1, so counts beyond the remaining
        // bytes are refused before anything is allocated for them.
        let entryCount = try reader.count("entry count", limit: min(limits.maxEntries, reader.remaining / 19))
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        var totalSiblings = 0
        for _ in 0..<entryCount {
            let actorOffset = reader.offset
            let actor = try reader.actor()
            if let previous = entries.last, !(previous.actor < actor) {
                throw VersionError(.malformed, "actor \(actor) not after \(previous.actor)", offset: actorOffset)
            }
            let counter = try reader.counter()
            let countOffset = reader.offset
            let siblingCount = try reader.count(
                "sibling count", limit: min(limits.maxSiblings - totalSiblings, reader.remaining))
            guard UInt64(siblingCount) <= counter else {
                throw VersionError(.malformed, "\(siblingCount) siblings under counter \(counter)", offset: countOffset)
            }
            totalSiblings += siblingCount
            var siblings: [Sibling<[UInt8]>] = []
            siblings.reserveCapacity(siblingCount)
            for _ in 0..<siblingCount {
                siblings.append(try Self.decodeSibling(&reader, limits: limits))
            }
            entries.append(Entry(actor: actor, counter: counter, siblings: siblings))
        }
        guard reader.remaining == 0 else {
            throw VersionError(.malformed, "\(reader.remaining) bytes after the last entry", offset: reader.offset)
        }
        self.init(sortedEntries: entries)
    }

    private static func decodeSibling(
        _ reader: inout VersionCoding.Reader, limits: DVVSetDecodingLimits
    ) throws(VersionError) -> Sibling<[UInt8]> {
        let flagsOffset = reader.offset
        let flags = try reader.byte()
        guard flags & ~(tombstoneFlag | expiryFlag) == 0 else {
            throw VersionError(.malformed, "unknown sibling flags \(flags)", offset: flagsOffset)
        }
        var expiry: UInt64 = 0
        if flags & expiryFlag != 0 {
            let expiryOffset = reader.offset
            expiry = try reader.varint()
            guard expiry != 0 else { throw VersionError(.malformed, "expiry flag with expiry 0", offset: expiryOffset) }
            guard expiry <= WallClockTime.maxMillisecondsSince1970 else {
                throw VersionError(.malformed, "expiry \(expiry) ms is after the year 9999", offset: expiryOffset)
            }
        }
        if flags & tombstoneFlag != 0 {
            return Sibling(.tombstone, expiry: expiry == 0 ? nil : WallClockTime(millisecondsSince1970: expiry))
        }
        let length = try reader.count("value length", limit: limits.maxValueBytes)
        return Sibling(.value(try reader.raw(length)), expiry: expiry == 0 ? nil : WallClockTime(millisecondsSince1970: expiry))
    }
}
