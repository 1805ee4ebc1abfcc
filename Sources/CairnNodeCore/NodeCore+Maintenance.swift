import CairnCore

/// The maintenance tick: the background work of every subsystem, paced by one timer.
extension NodeCore {
    /// Every `maintenanceIntervalMilliseconds`: review pending partitions, start owed
    /// transfers, look for orphan copies (every `orphanCheckIntervalMilliseconds`), age out
    /// hints and retry their delivery, and start the next anti-entropy exchange unless one runs.
    ///
    /// A node that has left (or was removed) only delivers the hints it still holds: its
    /// copies were handed off before it left, and the other members no longer ask it before
    /// reaping, so sending them again (or joining anti-entropy) could bring back a key they
    /// reaped since.
    mutating func maintenance(view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let gone = isGone(id)
        var commands = reviewPending(view: view, now: now)
        commands += pullCASStates(view: view, now: now)
        commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        commands += gone ? [] : startNextTransfer(now: now, wallNow: wallNow)
        if !gone, now >= orphanCheckAt {
            orphanCheckAt = now + settings.orphanCheckIntervalMilliseconds
            commands.append(.storage(operation: newOperation(.orphanScan), .heldPartitions))
        }
        commands += performHints(ledger.tick(now: wallNow), view: view)
        // Owners that are reachable, and owners that are gone (their hints go to the current
        // primaries instead); on a node that is leaving or has left, every owner: what it
        // cannot hand to its owner goes to a reachable primary of the partition.
        let departing = isDeparting
        for owner in ledger.pendingOwners where owner != id && (departing || view.isReachable(owner) || isGone(owner)) {
            commands += deliverHints(to: owner, view: view, wallNow: wallNow)
        }
        guard !gone else { return commands }
        commands += reapTick(view: view, wallNow: wallNow)
        commands += collectAcceptorsTick(wallNow: wallNow)
        return commands + startExchange(view: view, now: now)
    }
}
