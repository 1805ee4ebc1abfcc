import CairnCore

/// The maintenance tick: the background work of every subsystem, paced by one timer.
extension NodeCore {
    /// Every `maintenanceIntervalMilliseconds`: review pending partitions, start owed
    /// transfers, look for orphan copies (every `orphanCheckIntervalMilliseconds`), age out
    /// hints and retry their delivery, and start the next anti-entropy exchange unless one runs.
    mutating func maintenance(view: ClusterView, now: UInt64, wallNow: UInt64) -> [NodeCommand] {
        var commands = reviewPending(view: view, now: now)
        commands += startNextTransfer(now: now, wallNow: wallNow)
        if now >= orphanCheckAt {
            orphanCheckAt = now + settings.orphanCheckIntervalMilliseconds
            commands.append(.storage(operation: newOperation(.orphanScan), .heldPartitions))
        }
        commands += performHints(ledger.tick(now: wallNow), view: view)
        // Owners that are reachable, and owners that are gone (their hints go to the current
        // primaries instead).
        for owner in ledger.pendingOwners where owner != id && (view.isReachable(owner) || isGone(owner)) {
            commands += deliverHints(to: owner, view: view, wallNow: wallNow)
        }
        commands += reapTick(view: view, wallNow: wallNow)
        return commands + startExchange(view: view, now: now)
    }
}
