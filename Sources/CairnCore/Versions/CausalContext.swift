/// A version vector: for each actor, the newest counter whose write has been seen.
///
/// It is what a GET hands the client with the siblings it read, and what the client hands
/// back with its next PUT (DESIGN.md §2). The write then supersedes every sibling whose dot the
/// context covers and keeps the others as concurrent (Preguiça et al. 2012, §5, the `update`
/// function; riak_kv `dvvset:join/1`). A context covers a dot `(r, n)` when its counter for `r`
/// is at least `n`; because each actor's dots are numbered without gaps, "seen counter `n`"
/// means "seen every write of `r` up to `n`".
///
/// A context is trusted input: one that claims writes it never saw makes the next PUT drop
/// them. The node should therefore hand it to clients as an opaque token (and may seal it).
public struct CausalContext: Hashable, Sendable, CustomStringConvertible {
    /// The newest dot seen per actor, sorted by actor, one per actor, every counter above 0.
    public private(set) var entries: [Dot]

    /// The empty context: a write with it is concurrent with everything stored.
    public init() { entries = [] }

    /// A context from counters per actor; zero counters are left out.
    public init(_ counters: [ReplicaActor: UInt64]) {
        entries = counters.filter { $0.value > 0 }
            .map { Dot(actor: $0.key, counter: $0.value) }
            .sorted()
    }

    /// `entries` must already be sorted by actor, unique, with counters above 0.
    init(sortedEntries: [Dot]) {
        entries = sortedEntries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The counter seen for `actor`, 0 when none.
    public subscript(actor: ReplicaActor) -> UInt64 {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].actor < actor { low = mid + 1 } else { high = mid }
        }
        return low < entries.count && entries[low].actor == actor ? entries[low].counter : 0
    }

    /// Whether the write `dot` has been seen.
    public func covers(_ dot: Dot) -> Bool {
        dot.counter <= self[dot.actor]
    }

    /// Whether this context has seen everything `other` has (`self >= other` pointwise).
    public func descends(_ other: CausalContext) -> Bool {
        var i = 0
        for theirs in other.entries {
            while i < entries.count && entries[i].actor < theirs.actor { i += 1 }
            guard i < entries.count, entries[i].actor == theirs.actor, entries[i].counter >= theirs.counter else {
                return false
            }
        }
        return true
    }

    /// Whether this context has seen everything `other` has and more.
    public func dominates(_ other: CausalContext) -> Bool {
        self != other && descends(other)
    }

    /// How two contexts are ordered.
    public enum Order: Hashable, Sendable {
        case equal, before, after, concurrent
    }

    /// `.before` when `other` dominates `self`, `.after` when `self` dominates `other`.
    public func compare(_ other: CausalContext) -> Order {
        switch (descends(other), other.descends(self)) {
        case (true, true): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (false, false): return .concurrent
        }
    }

    /// The pointwise maximum: everything either context has seen.
    public func merged(with other: CausalContext) -> CausalContext {
        var result: [Dot] = []
        result.reserveCapacity(entries.count + other.entries.count)
        var i = 0
        var j = 0
        while i < entries.count || j < other.entries.count {
            if j == other.entries.count || (i < entries.count && entries[i].actor < other.entries[j].actor) {
                result.append(entries[i])
                i += 1
            } else if i == entries.count || other.entries[j].actor < entries[i].actor {
                result.append(other.entries[j])
                j += 1
            } else {
                result.append(entries[i].counter >= other.entries[j].counter ? entries[i] : other.entries[j])
                i += 1
                j += 1
            }
        }
        return CausalContext(sortedEntries: result)
    }

    public var description: String {
        "{" + entries.map { "\($0.actor): \($0.counter)" }.joined(separator: ", ") + "}"
    }
}
