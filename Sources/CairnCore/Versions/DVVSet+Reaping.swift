extension DVVSet {
    /// When the key died, if it is dead at `nowMilliseconds`: every sibling a tombstone or
    /// expired. A tombstone's time is its `expiryMilliseconds`, which a delete stamps with the
    /// coordinator's wall clock (0 for tombstones written before deletes were stamped: dead
    /// since always); an expired value's is its expiry. The latest of them: the key has been
    /// dead since the last of its siblings died. `nil` while any sibling is live.
    public func deadSince(atMilliseconds nowMilliseconds: UInt64) -> UInt64? {
        var latest: UInt64 = 0
        for entry in entries {
            for sibling in entry.siblings {
                switch sibling.content {
                case .tombstone:
                    latest = max(latest, sibling.expiryMilliseconds)
                case .value:
                    guard sibling.isExpired(atMilliseconds: nowMilliseconds) else { return nil }
                    latest = max(latest, sibling.expiryMilliseconds)
                }
            }
        }
        return latest
    }

    /// Whether a replica may propose to remove the key physically (docs/versioning.md,
    /// "Reaping"): dead at `nowMilliseconds` for at least `graceMilliseconds`. Removing it is
    /// still subject to every primary holding a version that dominates it.
    public func isReapable(atMilliseconds nowMilliseconds: UInt64, graceMilliseconds: UInt64) -> Bool {
        guard let since = deadSince(atMilliseconds: nowMilliseconds) else { return false }
        return nowMilliseconds >= graceMilliseconds && since <= nowMilliseconds - graceMilliseconds
    }
}

extension Sibling {
    /// A tombstone stamped with the time of the delete, from which the reaper's grace period
    /// runs (a tombstone's expiry is its deletion time: it reads as a tombstone either way).
    public static func tombstone(deletedAtMilliseconds: UInt64) -> Sibling {
        Sibling(.tombstone, expiryMilliseconds: deletedAtMilliseconds)
    }
}
