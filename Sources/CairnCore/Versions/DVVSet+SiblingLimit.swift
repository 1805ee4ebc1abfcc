extension DVVSet {
    /// The most writers (actors) a client write may leave in one object: a quarter of what a
    /// decoder accepts (`DVVSetDecodingLimits.maxEntries`), so that the merge of up to four
    /// replicas that took different writes still decodes. Real objects hold one writer per
    /// node and epoch that coordinated a write to the key, plus compare-and-set's.
    public static var maxWritersOnWrite: Int { 1024 }

    /// The object budget of a client write by default: 16 MiB, four maximal (4 MiB) values side
    /// by side. Replica paths carry four times as much (`maxReplicaObjectBytes`).
    public static var defaultObjectBudget: Int { 16 << 20 }

    /// What every replica path (storage records, internode frames, hints, handoff, read repair,
    /// anti-entropy) must carry: four times the object budget plus 64 KiB of history, so that
    /// the merge of up to four replicas that took different writes near the budget is stored
    /// and sent like any object (as `maxWritersOnWrite` is a quarter of the decoder's limit).
    public static var maxReplicaObjectBytes: Int { 4 * defaultObjectBudget + (64 << 10) }

    /// Writes `sibling` as the coordinator `actor` on the client write path, refusing the write
    /// if it would leave more than `siblingLimit` siblings.
    ///
    /// Concurrent blind writes each add a sibling, so without a cap a misbehaving client grows
    /// one key without bound (Riak's `max_siblings`). The cap is checked only here: replication,
    /// read repair, hints, handoff and anti-entropy merge with `sync`, which never refuses,
    /// because refusing there would lose writes other replicas have acknowledged. A write that
    /// resolves siblings (its context covers them) passes as long as the result is within the
    /// cap. On error `self` is unchanged.
    @discardableResult
    public mutating func update(
        with context: CausalContext, _ sibling: Sibling<Value>, by actor: ReplicaActor, siblingLimit: Int
    ) throws(VersionError) -> Dot {
        precondition(siblingLimit >= 1, "sibling limit must be at least 1, got \(siblingLimit)")
        var candidate = DVVSet.sync(self, DVVSet(context: context))
        let index = candidate.entryIndex(of: actor)
        if index < candidate.entries.count, candidate.entries[index].actor == actor,
            candidate.entries[index].counter >= Dot.maxCounter
        {
            throw VersionError(.counterExhausted, "no counter left for \(actor)")
        }
        // Writers are bounded well below the decoder's limit (4096), so that the merge of a
        // few diverged replicas still decodes everywhere. A write that adds no writer passes.
        let writers = candidate.entries.count + (index < candidate.entries.count && candidate.entries[index].actor == actor ? 0 : 1)
        guard writers <= Self.maxWritersOnWrite || writers <= entries.count else {
            throw VersionError(
                .tooLarge, "write would leave \(writers) writers in one object; send back a context a read returned",
                limit: Self.maxWritersOnWrite)
        }
        let dot = candidate.mint(sibling, by: actor)
        let size = candidate.size
        guard size <= siblingLimit else {
            throw VersionError(
                .siblingLimitExceeded, "write would leave \(size) siblings; resolve them with a context",
                limit: siblingLimit)
        }
        self = candidate
        return dot
    }
}

extension DVVSet where Value == [UInt8] {
    /// `update(with:_:by:siblingLimit:)`, also refusing (`.tooLarge`) a write that would leave
    /// an object whose encoding may exceed `maxObjectBytes` (`encodedByteBound`), unless it
    /// leaves the object smaller than it was: a write that resolves siblings always passes.
    /// On error `self` is unchanged.
    @discardableResult
    public mutating func update(
        with context: CausalContext, _ sibling: Sibling<Value>, by actor: ReplicaActor, siblingLimit: Int, maxObjectBytes: Int
    ) throws(VersionError) -> Dot {
        var candidate = self
        let dot = try candidate.update(with: context, sibling, by: actor, siblingLimit: siblingLimit)
        let bytes = candidate.encodedByteBound
        guard bytes <= maxObjectBytes || bytes < encodedByteBound else {
            throw VersionError(
                .tooLarge,
                "write would leave the key's object at \(bytes) bytes, over the budget of \(maxObjectBytes); resolve its siblings with a context",
                limit: maxObjectBytes)
        }
        self = candidate
        return dot
    }

    /// An upper bound of `encode().count` without encoding: every varint at its widest.
    public var encodedByteBound: Int {
        var bytes = VersionCoding.headerBytes + 10
        for entry in entries {
            bytes += 16 + 10 + 10 + 10
            for sibling in entry.siblings {
                bytes += 1 + 10
                if case .value(let value) = sibling.content { bytes += 10 + value.count }
            }
        }
        return bytes
    }
}
