/// The identity under which a replica mints dots: the node plus an epoch.
///
/// A dot `(actor, counter)` must name one write and never two (Preguiça et al. 2012, §4: dots
/// are unique because only the actor that owns a counter advances it). A node advances its
/// counter for a key from the object it has stored, so a node that loses its data would count
/// from 1 again and reissue dots that other replicas already hold, and those replicas would then
/// treat the new writes as already seen and drop them (Riak KV679). A node that starts without
/// its data therefore takes a new `epoch`, and its dots cannot collide with the old ones.
///
/// Named `ReplicaActor`, not `Actor`: a public `Actor` type in `CairnCore` would shadow the
/// standard library's `Actor` protocol in every module that imports `CairnCore`, and break
/// `isolated (any Actor)?` and `<T: Actor>` there.
public struct ReplicaActor: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The node's identity, created on its first start and kept in its data directory.
    public var node: NodeID
    /// Incremented each time the node starts without its data.
    public var epoch: UInt64

    public init(node: NodeID, epoch: UInt64 = 0) {
        self.node = node
        self.epoch = epoch
    }

    /// The same node in its next epoch, to use after it has lost its data.
    public func nextEpoch() -> ReplicaActor {
        precondition(epoch < UInt64.max, "epoch exhausted for node \(node)")
        return ReplicaActor(node: node, epoch: epoch + 1)
    }

    /// Orders by node, then epoch: the canonical order of entries in a `DVVSet` and a
    /// `CausalContext`, which makes their encodings (and so version hashes) deterministic.
    public static func < (a: ReplicaActor, b: ReplicaActor) -> Bool {
        (a.node, a.epoch) < (b.node, b.epoch)
    }

    /// The actor of compare-and-set commits (docs/cas.md): not a node (the zero NodeID is no
    /// node's), so its dots are minted by Paxos, one per chosen value in ballot order, and
    /// every replica that applies a commit mints the same dot. An object holding a dot of this
    /// actor belongs to a key that compare-and-set manages.
    public static let cas = ReplicaActor(node: NodeID(high: 0, low: 0), epoch: 0)

    /// The node's 32 hex digits, `@`, the epoch.
    public var description: String { "\(node)@\(epoch)" }
}
