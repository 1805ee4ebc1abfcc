extension DVVSet {
    /// Whether the key is dead at `now`: every sibling a tombstone or expired
    /// (docs/versioning.md, "Reaping"). A dead key is removed physically once the reaper has
    /// seen it dead for the grace period and every member has confirmed that no copy of it is
    /// older than or concurrent with the dead object.
    public func isDead(at now: WallClockTime) -> Bool {
        entries.allSatisfy { entry in
            entry.siblings.allSatisfy { sibling in
                switch sibling.content {
                case .tombstone: true
                case .value: sibling.isExpired(at: now)
                }
            }
        }
    }
}

extension Sibling {
    /// A tombstone stamped with the time of the delete (a tombstone's expiry is its deletion
    /// time: it reads as a tombstone either way; operators and traces see when it was written).
    public static func tombstone(deletedAt: WallClockTime) -> Sibling {
        Sibling(.tombstone, expiry: deletedAt)
    }
}
