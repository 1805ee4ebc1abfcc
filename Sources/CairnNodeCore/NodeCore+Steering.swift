import CairnCore

/// What an operator steers while the node runs (`POST /v1/cluster/transfers`, `cairn cluster
/// transfers`): pause and resume handoff, retune its throttle, cancel transfers. Each acts on
/// this instance's transfers; the node applies it to every instance.
extension NodeCore {
    /// Why a steering request was refused.
    public enum SteeringError: Error, Sendable, Equatable {
        /// This node is leaving: everything it holds must reach the new replicas first.
        case leaving
        /// No transfer of this instance matches.
        case noSuchTransfer
        /// A throttle of no bytes.
        case invalidThrottle(Int)
    }

    /// The smallest throttle an operator may set for a node (shared by its instances, as
    /// `Settings.share(of:)` shares the configured one).
    public static let minimumHandoffBytesPerSecond = 4_096

    /// Stops every transfer of this instance at once: running ones go back to the front of the
    /// queue and resume, when handoff is resumed, after their last acknowledged batch (what a
    /// batch in flight carried is sent again and merges as a duplicate).
    public mutating func pauseHandoff() -> [NodeCommand] {
        guard !handoffPaused else { return [] }
        handoffPaused = true
        return requeueRunning()
    }

    /// Starts the queued transfers again.
    public mutating func resumeHandoff(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard handoffPaused else { return [] }
        handoffPaused = false
        transferRetryAt = nil
        return startNextTransfer(now: now, wallNow: wallNow)
    }

    /// Sets this instance's throttle (bytes per second, its share of the node's); running
    /// transfers restart their sender with it, from their last acknowledged batch.
    public mutating func setHandoffThrottle(bytesPerSecond: Int, now: MonotonicTime, wallNow: WallClockTime)
        throws(SteeringError) -> [NodeCommand]
    {
        guard bytesPerSecond > 0 else { throw .invalidThrottle(bytesPerSecond) }
        settings.handoffBytesPerSecond = bytesPerSecond
        guard !runningTransfers.isEmpty else { return [] }
        return requeueRunning() + startNextTransfer(now: now, wallNow: wallNow)
    }

    /// Cancels this instance's transfers of `partition` (to `target`, or to every target): they
    /// leave the queue, show as `failed`, and each target is sent the end of the partition so it
    /// stops waiting for this node and serves it. What was not sent reaches it by anti-entropy
    /// among the primaries; a copy this node no longer replicates stays here and goes to the
    /// primaries as a former replica's copy does (it is dropped only once each has it whole).
    /// Refused on a leaving node, whose transfers are all it has to hand off.
    public mutating func cancelTransfers(partition: Int, target: NodeID?, now: MonotonicTime, wallNow: WallClockTime)
        throws(SteeringError) -> [NodeCommand]
    {
        guard cluster.members[id]?.status != .leaving else { throw .leaving }
        let matching = transfers.keys.filter { transfer in
            transfer.partition == partition && (target == nil || transfer.target == target)
                && transfers[transfer]?.state.isActive == true
        }.sorted { $0.target < $1.target }
        guard !matching.isEmpty else { throw .noSuchTransfer }
        var commands: [NodeCommand] = []
        for transfer in matching {
            runningTransfers[transfer] = nil
            transferQueue.removeAll { $0 == transfer }
            transfers[transfer]?.state = .failed
            transferAttempts[transfer] = nil
            transferCursors[transfer] = nil
            commands.append(.notice(.transferEnded(transfer, done: false)))
            // The end of the partition, as a transfer's last batch says it; its answer is not
            // awaited (run 0 is no run's number).
            let call = newCall(.handoffBatch(transfer, run: 0))
            commands.append(.request(call: call, to: transfer.target,
                                     .handoffBatch(HandoffBatch(partition: partition, items: [], cursor: nil, isLast: true)),
                                     timeoutMilliseconds: settings.handoffBatchTimeoutMilliseconds))
        }
        commands.append(.persistHandoff(handoffState))
        return commands + startNextTransfer(now: now, wallNow: wallNow)
    }

    /// Running transfers back to the front of the queue, in their order, to resume after their
    /// cursors.
    mutating func requeueRunning() -> [NodeCommand] {
        let running = runningTransfers.keys.sorted { ($0.partition, $0.target) < ($1.partition, $1.target) }
        guard !running.isEmpty else { return [] }
        for transfer in running {
            runningTransfers[transfer] = nil
            transfers[transfer]?.state = .queued
        }
        transferQueue.insert(contentsOf: running, at: 0)
        return [.persistHandoff(handoffState)]
    }

    /// Pauses or resumes the anti-entropy sweep of this instance (an exchange under way
    /// finishes; urgent exchanges, an operator's or a dropped hint's, still run).
    public mutating func setAntiEntropyPaused(_ paused: Bool) { antiEntropyPaused = paused }

    /// Sets the least time between two sweep exchanges; the next may start that long after the
    /// last one started.
    public mutating func setAntiEntropyInterval(milliseconds: UInt64) {
        let last = nextSweepExchange >= MonotonicTime(milliseconds: settings.antiEntropyIntervalMilliseconds)
            ? MonotonicTime(milliseconds: nextSweepExchange.milliseconds - settings.antiEntropyIntervalMilliseconds) : .zero
        settings.antiEntropyIntervalMilliseconds = milliseconds
        nextSweepExchange = last + milliseconds
    }

    /// The anti-entropy sweep as the operator sees it.
    public var antiEntropySteering: (paused: Bool, intervalMilliseconds: UInt64) {
        (antiEntropyPaused, settings.antiEntropyIntervalMilliseconds)
    }

    /// The handoff settings as the operator sees them.
    public var handoffSteering: (paused: Bool, bytesPerSecond: Int) { (handoffPaused, settings.handoffBytesPerSecond) }
}

extension NodeCore {
    /// An operator asks for anti-entropy of `partition` now (`POST /v1/cluster/antientropy`):
    /// an exchange with each other replica this node reaches goes first in the plan. Returns
    /// those replicas (none when the partition has no other replica: N = 1); throws when this
    /// instance does not replicate the partition or reaches none of its other replicas.
    public mutating func requestExchange(partition: Int, now: MonotonicTime) throws(ExchangeRequestError) -> ([NodeID], [NodeCommand]) {
        let view = clusterView(now: now)
        guard let ring = view.ring, partition >= 0, partition < ring.partitionCount, shard.owns(partition) else {
            throw .notReplicatedHere
        }
        let replicas = ring.preferenceList(for: partition, n: settings.replicas)
        guard replicas.contains(id) else { throw .notReplicatedHere }
        let others = replicas.filter { $0 != id }
        guard !others.isEmpty else { return ([], []) }
        let peers = others.filter { view.isReachable($0) }
        guard !peers.isEmpty else { throw .noReachableReplica }
        for peer in peers.reversed() {
            let target = ExchangeTarget(partition: partition, peer: peer)
            urgentExchanges.removeAll { $0 == target }
            urgentExchanges.insert(target, at: 0)
        }
        return (peers, startExchange(view: view, now: now))
    }

    public enum ExchangeRequestError: Error, Sendable, Equatable {
        /// The partition is not one this node (this instance) replicates in its ring.
        case notReplicatedHere
        /// None of its other replicas is reachable from here.
        case noReachableReplica
    }
}
