/// The identifier of one write event: the actor that minted it and that actor's counter.
///
/// Preguiça et al. 2012, §4 ("dots"): each write is tagged with a dot `(r, n)`, the `n`-th event
/// of replica `r` for this key. A causal context covers a dot when its counter for `r` is at
/// least `n`. Dots are unique because an actor is a node in one epoch (see `ReplicaActor`).
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var actor: ReplicaActor
    public var counter: UInt64

    /// The largest counter Cairn mints or accepts from an encoding. Kept well below
    /// `UInt64.max` so that minting the next counter can never overflow, even after a client
    /// hands back a forged context (see `CausalContext`).
    public static let maxCounter: UInt64 = 1 << 62

    public init(actor: ReplicaActor, counter: UInt64) {
        self.actor = actor
        self.counter = counter
    }

    public static func < (a: Dot, b: Dot) -> Bool {
        (a.actor, a.counter) < (b.actor, b.counter)
    }

    public var description: String { "(\(actor), \(counter))" }
}
