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
public enum Supersedes: Hashable, Sendable {
    /// What the client's context covers (a read-modify-write).
    case context(CausalContext)
    /// What a read quorum holds when the write begins (a plain PUT or DELETE).
    case current
    /// Nothing: Dynamo's blind write adds a sibling.
    case nothing

    /// The context a write carries when it is known before the write starts: the client's,
    /// or empty for a blind write. `nil` for a plain write, whose context is read first.
    public var knownContext: CausalContext? {
        switch self {
        case .context(let context): context
        case .nothing: CausalContext()
        case .current: nil
        }
    }
}
