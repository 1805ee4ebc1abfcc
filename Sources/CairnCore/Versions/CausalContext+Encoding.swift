/// The binary form of a causal context, the token a client carries from a GET to its PUT.
///
/// After the header of `VersionCoding` (kind 2), the body is
///
/// ```
///   varint entry count
///   per entry, sorted by actor, actors distinct:
///     node (16 bytes, big-endian) | varint epoch (≤ u32) | varint counter (1…2^62)
/// ```
extension CausalContext {
    /// Contexts come from clients; one entry per actor that ever wrote a key stays far below this.
    public static let defaultMaxEncodedBytes = 64 << 10

    /// The canonical encoding: equal contexts encode to equal bytes.
    public func encode() -> [UInt8] {
        var writer = VersionCoding.Writer()
        writer.varint(UInt64(entries.count))
        for entry in entries {
            writer.actor(entry.actor)
            writer.varint(entry.counter)
        }
        return VersionCoding.Writer.framed(kind: .causalContext, body: writer.bytes)
    }

    /// Decodes an encoding made by `encode()`; anything else throws a `VersionError`, never traps.
    ///
    /// `maxEntries` bounds the writers: a client's context can name no more than a write may
    /// leave in an object (`DVVSet.maxWritersOnWrite`).
    public init(decoding bytes: [UInt8], maxEncodedBytes: Int = CausalContext.defaultMaxEncodedBytes,
                maxEntries: Int = DVVSetDecodingLimits().maxEntries) throws(VersionError) {
        var reader = try VersionCoding.Reader(framed: bytes, kind: .causalContext, maxEncodedBytes: maxEncodedBytes)
        // Each entry takes at least 18 bytes.
        let count = try reader.count("entry count", limit: min(maxEntries, reader.remaining / 18))
        var entries: [Dot] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let actorOffset = reader.offset
            let actor = try reader.actor()
            if let previous = entries.last, !(previous.actor < actor) {
                throw VersionError(.malformed, "actor \(actor) not after \(previous.actor)", offset: actorOffset)
            }
            entries.append(Dot(actor: actor, counter: try reader.counter()))
        }
        guard reader.remaining == 0 else {
            throw VersionError(.malformed, "\(reader.remaining) bytes after the last entry", offset: reader.offset)
        }
        self.init(sortedEntries: entries)
    }
}
