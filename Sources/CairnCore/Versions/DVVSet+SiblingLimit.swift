extension DVVSet {
    /// The most writers (actors) a client write may leave in one object: a quarter of what a
    /// decoder accepts (`DVVSetDecodingLimits.maxEntries`), so that the merge of up to four
    /// replicas that took different writes still decodes. Real objects hold one writer per
    /// node and epoch that coordinated a write to the key, plus compare-and-set's.
    public static var maxWritersOnWrite: Int { 1024 }

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
