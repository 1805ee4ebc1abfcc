/// What a client write supersedes: the versions it replaces, as opposed to the ones it sits
/// beside as siblings.
///
/// Dynamo's write takes the causal context the client read and supersedes exactly what that
/// context covers; a write with no context (a *blind* write) supersedes nothing and becomes one
/// more sibling. A user of a plain REST API expects something else of a PUT or DELETE without a
/// context: that it replaces the value. Cairn gives that *plain* write a context of its own:
/// the coordinator first reads the key from a read quorum and writes with the context of what
/// it read, as Riak's delete does (`riak_kv_delete` reads before it writes the tombstone). A
/// plain write therefore supersedes every write acknowledged (by W replicas, with R + W > N)
/// before it began, and sits beside writes that overlap it in time or that it could not see
/// across a partition: those become siblings and are never dropped. docs/versioning.md has the
/// rule and its cost (one read round before the write).
///
/// A *conditional* write (HTTP's `If-Match` and `If-None-Match: *`, RFC 9110 §13.1) reads the
/// same way and goes ahead only when what the read found meets its condition; otherwise nothing
/// is written and the client is told (412). The condition is checked against a quorum read,
/// not atomically with the write: a write that races it is kept as a sibling, never lost, and
/// a linearizable condition is what compare-and-set is for.
public enum Supersedes: Hashable, Sendable {
    /// What the client's context covers (a read-modify-write).
    case context(CausalContext)
    /// What a read quorum holds when the write begins (a plain PUT or DELETE).
    case current
    /// Nothing: Dynamo's blind write adds a sibling.
    case nothing
    /// What the client's context covers, provided that context has seen everything a read
    /// quorum holds when the write begins (`If-Match: <context>`): a read-modify-write that is
    /// refused, rather than turned into siblings, when the key changed since the client read it.
    /// A key of which no replica holds anything (not even a tombstone) never matches.
    case contextIfCurrent(CausalContext)
    /// What a read quorum holds, provided it holds a live value (`If-Match: *`): replace, never create.
    case currentIfLive
    /// What a read quorum holds, provided it holds no live value (`If-None-Match: *`): create,
    /// never replace. A deleted or expired key counts as absent, and its history is superseded.
    case currentIfAbsent

    /// The context a write carries when it is known before the write starts: the client's,
    /// or empty for a blind write. `nil` for a plain or conditional write, which reads first.
    public var knownContext: CausalContext? {
        switch self {
        case .context(let context): context
        case .nothing: CausalContext()
        case .current, .contextIfCurrent, .currentIfLive, .currentIfAbsent: nil
        }
    }

    /// The context the write carries once its read has found `object` (`nil`: no replica
    /// answering holds the key), judged at wall-clock time `now`; `nil` when the
    /// write's condition does not hold, so nothing may be written.
    ///
    /// Pure, so the node core and any stand-in for it decide a condition the same way.
    public func context<Value: Hashable & Sendable>(after object: DVVSet<Value>?, at now: WallClockTime)
        -> CausalContext?
    {
        let read = object?.join() ?? CausalContext()
        let isLive = object.map { !$0.values(at: now).isEmpty } ?? false
        switch self {
        case .context(let context): return context
        case .nothing: return CausalContext()
        case .current: return read
        case .contextIfCurrent(let context): return object != nil && context.descends(read) ? context : nil
        case .currentIfLive: return isLive ? read : nil
        case .currentIfAbsent: return isLive ? nil : read
        }
    }
}
