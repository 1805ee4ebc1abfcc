import CairnCore

/// Ring changes: the transfers this node owes and sends (each driven by a throttled
/// `Handoff.Sender`, one at a time, retried), the partitions it gained that are still arriving
/// (*pending*: reads refuse them until every old replica still reachable has sent its copy),
/// and writes during the change passed on to the new replicas.
extension NodeCore {
    /// An outgoing transfer and its progress, shown by `cairn cluster status`.
    public struct TransferProgress: Sendable, Equatable {
        public enum State: String, Sendable {
            case queued, sending, done, failed
            /// Still to be sent (writes to its partition are passed on to its target).
            public var isActive: Bool { self == .queued || self == .sending }
        }

        public var transfer: Handoff.Transfer
        public var state: State
        public var keysSent = 0
        public var bytesSent = 0
    }

    /// The transfer being sent now.
    struct RunningTransfer: Sendable {
        var transfer: Handoff.Transfer
        /// This run's number: reads, batches and timers of an earlier run of the same transfer
        /// (stopped by a pause, a retune or a cancel while one was in flight) are ignored.
        var run: UInt64
        var sender: Handoff.Sender
        /// Bytes earlier runs of the transfer sent (the sender counts only its own).
        var bytesBefore = 0
        var batch: [KeyedObject] = []
        var batchIsLast = false
    }

    /// What survives a restart: owed transfers with their acknowledged cursors, and the
    /// partitions still arriving with the sources awaited.
    public struct HandoffState: Sendable, Equatable {
        public var transfers: [(transfer: Handoff.Transfer, cursor: [UInt8]?)]
        public var pending: [Int: Set<NodeID>]
        /// Partitions whose acceptor states are still being gathered, with the members awaited,
        /// and those of them that wait for unreachable fellow replicas too.
        public var casAwaiting: [Int: Set<NodeID>]
        public var casStrict: Set<Int>
        /// Partitions this node lost, with the nodes that gained them and have not gathered its
        /// acceptor states yet.
        public var casOwed: [Int: Set<NodeID>]

        public init(transfers: [(transfer: Handoff.Transfer, cursor: [UInt8]?)], pending: [Int: Set<NodeID>],
                    casAwaiting: [Int: Set<NodeID>] = [:], casStrict: Set<Int> = [], casOwed: [Int: Set<NodeID>] = [:]) {
            self.transfers = transfers
            self.pending = pending
            self.casAwaiting = casAwaiting
            self.casStrict = casStrict
            self.casOwed = casOwed
        }

        public static func == (a: HandoffState, b: HandoffState) -> Bool {
            a.pending == b.pending && a.casAwaiting == b.casAwaiting && a.casStrict == b.casStrict && a.casOwed == b.casOwed && a.transfers.map(\.transfer) == b.transfers.map(\.transfer)
                && a.transfers.map(\.cursor) == b.transfers.map(\.cursor)
        }
    }

    /// Transfers in flight or done since the last ring change.
    public var transferProgress: [TransferProgress] {
        transfers.values.sorted { ($0.transfer.partition, $0.transfer.target) < ($1.transfer.partition, $1.transfer.target) }
    }

    /// Partitions gained here whose data is still arriving.
    public var pendingPartitions: [Int] { pendingIn.keys.sorted() }

    var handoffState: HandoffState {
        var owed = transferQueue
        owed += runningTransfers.keys.sorted { ($0.partition, $0.target) < ($1.partition, $1.target) }
        return HandoffState(transfers: owed.map { ($0, transferCursors[$0]) }, pending: pendingIn, casAwaiting: casAwaiting,
                            casStrict: casStrict.intersection(casAwaiting.keys), casOwed: casStatesOwed)
    }

    /// Restores what a restart kept (from `.persistHandoff`): the transfers are queued again
    /// (resuming after their cursors), the partitions stay pending.
    mutating func restore(_ state: HandoffState, now: MonotonicTime) {
        for (transfer, cursor) in state.transfers where transfer.source == id {
            guard transfers[transfer] == nil else { continue }
            transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
            transferQueue.append(transfer)
            if let cursor { transferCursors[transfer] = cursor }
        }
        for (partition, sources) in state.pending {
            pendingIn[partition] = sources
            pendingSince[partition] = now
        }
        for (partition, awaited) in state.casAwaiting where !awaited.isEmpty {
            casAwaiting[partition] = awaited
            casPulls[partition] = [:]
            if state.casStrict.contains(partition) { casStrict.insert(partition) }
        }
        for (partition, owed) in state.casOwed where !owed.isEmpty {
            casStatesOwed[partition] = owed
            casStatesOwedSince = now
        }
    }

    /// The ring moved from the previous one to `new`.
    ///
    /// A partition that gains a replica is pending on it (docs/design.md §3). Every old
    /// replica of the partition sends it its copy (not just one: a write acknowledged by W of N
    /// old replicas is on any N − W + 1 of them, so one source could lack it). Until the new
    /// replica has the whole partition from every old replica still reachable, it refuses reads
    /// of the partition, so quorum reads are answered by replicas that hold the data; writes
    /// reach it at once.
    mutating func ringMoved(to new: Ring, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        defer { previousRing = new }
        guard let old = previousRing, old != new else { return [] }
        let n = settings.replicas
        // Finished transfers of earlier ring changes are history; keep the status short.
        transfers = transfers.filter { $0.value.state.isActive }
        var requests: [NodeCommand] = []
        for change in RingDiff(from: old, to: new).replicaChanges(n: n) where shard.owns(change.partition) {
            let oldReplicas = old.preferenceList(for: change.partition, n: n)
            if oldReplicas.contains(id) {
                for target in change.gained where target != id {
                    let transfer = Handoff.Transfer(partition: change.partition, source: id, target: target)
                    guard transfers[transfer] == nil else { continue }
                    transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
                    transferQueue.append(transfer)
                }
            }
            if change.gained.contains(id) {
                // A source may have finished before this node saw the ring change.
                let sources = Set(oldReplicas).subtracting([id]).subtracting(finishedEarly[change.partition] ?? [])
                if !sources.isEmpty {
                    pendingIn[change.partition] = sources
                    pendingSince[change.partition] = now
                    handoffRequestedAt[change.partition] = now
                    requests += sources.sorted().map { .send(to: $0, .handoffRequest(partition: change.partition)) }
                }
            }
        }
        finishedEarly = [:]
        planCASStates(from: old, to: new, now: now)
        if settings.brokenDropBeforeHandoff {
            for change in RingDiff(from: old, to: new).replicaChanges(n: n) where change.lost.contains(id) && shard.owns(change.partition) {
                requests.append(.storage(operation: newOperation(.orphanTree(partition: change.partition)), .readTree(partition: change.partition)))
            }
        }
        var commands: [NodeCommand] = [.persistHandoff(handoffState),
                                       .notice(.handoffPlanned(outgoing: transferQueue.count, pending: pendingIn.count))]
        // Ask every source too: a source whose own view of the change differs (it skipped a
        // ring version, or the change made no transfer to this node in its diff) sends on
        // request, so a pending partition never waits for a transfer nobody queued.
        commands += requests
        commands += startNextTransfer(now: now, wallNow: wallNow)
        commands += pullCASStates(view: clusterView(now: now), now: now)
        return commands
    }

    // MARK: receiving

    /// A batch of a partition transfer, its objects merged (in their keys' order) before it
    /// is acknowledged; the last batch of a source ends its part of the wait.
    mutating func receiveHandoff(_ batch: HandoffBatch, from source: NodeID, reply: UInt64, view: ClusterView, now: MonotonicTime,
                                 wallNow: WallClockTime) -> [NodeCommand] {
        if let problem = partitionProblem(batch.partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
        for item in batch.items {
            if let problem = partitionProblem(batch.partition, key: item.key, view: view) {
                return [.respond(reply: reply, .nack(reason: problem))]
            }
        }
        guard !batch.items.isEmpty else {
            return handoffReceived(partition: batch.partition, from: source, isLast: batch.isLast, now: now)
                + [.respond(reply: reply, .ack)]
        }
        let group = newNumber()
        groups[group] = Group(
            done: .handoffBatch(reply: reply, partition: batch.partition, source: source, isLast: batch.isLast),
            remaining: batch.items.count)
        var commands: [NodeCommand] = []
        for item in batch.items {
            commands += enter(item.key, .store(key: item.key, partition: batch.partition, object: item.object, hintFor: nil,
                                               then: .group(group)), view: view, now: now, wallNow: wallNow)
        }
        return commands
    }

    /// A source delivered a batch of `partition` here.
    mutating func handoffReceived(partition: Int, from source: NodeID, isLast: Bool, now: MonotonicTime) -> [NodeCommand] {
        guard var sources = pendingIn[partition] else {
            // Not pending (yet): remember a finished source for the ring change to come.
            if isLast, finishedEarly.count < settings.finishedEarlyLimit { finishedEarly[partition, default: []].insert(source) }
            return []
        }
        // Data is flowing: the safety valve counts from the latest batch.
        pendingSince[partition] = now
        guard isLast else { return [] }
        sources.remove(source)
        return settle(partition, waitingFor: sources, reason: "received from \(source)")
    }

    /// Stops waiting for sources that are gone (left, removed) or unreachable: what only they
    /// held was acknowledged by fewer replicas than the others cover. A partition pending
    /// longer than the safety valve without any batch is served anyway (a source that lost
    /// its data must not keep it unreadable); anti-entropy brings whatever is still missing.
    mutating func reviewPending(view: ClusterView, now: MonotonicTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for (partition, sources) in pendingIn.sorted(by: { $0.key < $1.key }) {
            if let since = pendingSince[partition], now >= since + settings.pendingSafetyValveMilliseconds {
                commands.append(.notice(.pendingValveOpened(partition: partition, waitingFor: sources.count)))
                commands += settle(partition, waitingFor: [], reason: "pending limit")
                continue
            }
            let waiting = sources.filter { source in
                (cluster.members[source].map { !$0.status.isTombstone } ?? false) && view.isReachable(source)
            }
            if waiting != sources {
                commands += settle(partition, waitingFor: waiting, reason: "sources unreachable or gone")
                if waiting.isEmpty { continue }
            }
            // Ask again the sources that have not finished (a request or its transfer may have
            // been lost to a crash on either side).
            if now >= (handoffRequestedAt[partition] ?? .zero) + settings.handoffRequestIntervalMilliseconds {
                handoffRequestedAt[partition] = now
                commands += waiting.sorted().map { .send(to: $0, .handoffRequest(partition: partition)) }
            }
        }
        return commands
    }

    mutating func settle(_ partition: Int, waitingFor sources: Set<NodeID>, reason: String) -> [NodeCommand] {
        if sources.isEmpty {
            pendingIn[partition] = nil
            pendingSince[partition] = nil
            handoffRequestedAt[partition] = nil
            return [.persistHandoff(handoffState), .notice(.partitionSettled(partition: partition, reason: reason))]
        }
        pendingIn[partition] = sources
        return [.persistHandoff(handoffState)]
    }

    // MARK: sending

    /// A new replica asks for this node's copy of `partition`: queue a transfer to it unless
    /// one is queued or being sent (what this node holds, possibly nothing, then an end).
    mutating func handoffRequested(partition: Int, by target: NodeID, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard target != id, partitionProblem(partition, view: view) == nil, !isGone(target) else { return [] }
        let transfer = Handoff.Transfer(partition: partition, source: id, target: target)
        if let progress = transfers[transfer], progress.state.isActive { return [] }
        transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
        transferAttempts[transfer] = nil
        transferQueue.append(transfer)
        return [.persistHandoff(handoffState)] + startNextTransfer(now: now, wallNow: wallNow)
    }

    /// Starts queued transfers while fewer than `handoffConcurrency` run (Riak's
    /// `handoff_concurrency`), unless a retry pause is on.
    mutating func startNextTransfer(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        // A transfer to a node that left or was removed goes to the partition's current
        // primaries instead: this node may hold writes no primary holds (the simulator found a
        // write whose only copy sat on an old replica whose transfer target then left), and
        // anti-entropy runs among primaries only. Copies they already hold merge away.
        let gone = transferQueue.filter { isGone($0.target) }
        if !gone.isEmpty {
            let goneTargets = Set(gone.map(\.target))
            transferQueue.removeAll { goneTargets.contains($0.target) }
            for transfer in gone {
                transfers[transfer]?.state = .failed
                transferAttempts[transfer] = nil
                transferCursors[transfer] = nil
                commands.append(.notice(.transferEnded(transfer, done: false)))
                sendToPrimaries(transfer.partition)
            }
            commands.append(.persistHandoff(handoffState))
            commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        }
        while !handoffPaused, runningTransfers.count < settings.handoffConcurrency, !transferQueue.isEmpty {
            if let at = transferRetryAt, now < at { break }
            transferRetryAt = nil
            // The first transfer whose target is reachable; a target that is down waits its
            // turn without holding up the others (or the retry pause, when every target is down).
            let view = clusterView(now: now)
            guard let index = transferQueue.firstIndex(where: { view.isReachable($0.target) }) else {
                let at = now + settings.transferRetryDelayMilliseconds
                transferRetryAt = at
                commands.append(.schedule(.handoff, at: at))
                break
            }
            let transfer = transferQueue.remove(at: index)
            transfers[transfer]?.state = .sending
            var sender = Handoff.Sender(
                transfer, resumingAfter: transferCursors[transfer], bytesPerSecond: settings.handoffBytesPerSecond,
                batchBytes: settings.handoffBatchBytes, retryMilliseconds: settings.handoffRetryMilliseconds)
            let effects = sender.start(now: now)
            runningTransfers[transfer] = RunningTransfer(
                transfer: transfer, run: newNumber(), sender: sender, bytesBefore: transfers[transfer]?.bytesSent ?? 0)
            commands += performSender(effects, of: transfer, now: now, wallNow: wallNow)
        }
        return commands
    }

    mutating func feedSender(_ transfer: Handoff.Transfer, run: UInt64? = nil, now: MonotonicTime, wallNow: WallClockTime,
                             _ event: (inout Handoff.Sender) -> [Handoff.Sender.Effect]) -> [NodeCommand] {
        guard var running = runningTransfers[transfer], run == nil || running.run == run else { return [] }
        let effects = event(&running.sender)
        runningTransfers[transfer] = running
        return performSender(effects, of: transfer, now: now, wallNow: wallNow)
    }

    mutating func performSender(_ effects: [Handoff.Sender.Effect], of transfer: Handoff.Transfer, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        var commands: [NodeCommand] = []
        for effect in effects {
            guard let running = runningTransfers[transfer] else { break }
            switch effect {
            case .read(let partition, let after, let maxBytes):
                let operation = newOperation(.handoffRead(transfer, run: running.run))
                commands.append(.storage(operation: operation, .readBatch(
                    partition: partition, after: after, maxBytes: maxBytes, maxKeys: settings.handoffBatchKeys)))
            case .send:
                commands += sendBatch(running)
            case .persistCursor(_, let cursor):
                transferCursors[transfer] = cursor
                commands.append(.persistHandoff(handoffState))
            case .schedule(.wake, let at):
                commands.append(.schedule(.handoffSender(transfer, run: running.run), at: at))
            case .completed:
                commands.append(.notice(.transferDone(transfer, keys: running.sender.keysSent)))
                commands += finishTransfer(transfer, done: true, now: now, wallNow: wallNow)
            }
        }
        return commands
    }

    mutating func sendBatch(_ running: RunningTransfer) -> [NodeCommand] {
        let call = newCall(.handoffBatch(running.transfer, run: running.run))
        let batch = HandoffBatch(partition: running.transfer.partition, items: running.batch, cursor: running.batch.last?.key,
                                 isLast: running.batchIsLast)
        return [.request(call: call, to: running.transfer.target, .handoffBatch(batch),
                         timeoutMilliseconds: settings.handoffBatchTimeoutMilliseconds)]
    }

    /// A batch of a running transfer was read.
    mutating func handoffBatchRead(_ transfer: Handoff.Transfer, run: UInt64, _ result: StorageResult, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard var running = runningTransfers[transfer], running.run == run else { return [] }
        guard case .batch(let items, let bytes, let isLast) = result else {
            // A read error must not look like the end of the partition: fail the transfer (it
            // is retried) rather than tell the target it is complete.
            var commands: [NodeCommand] = []
            if case .failed(let failure) = result { commands.append(.notice(.storageFailed(context: "reading a handoff batch", failure))) }
            return commands + finishTransfer(transfer, done: false, now: now, wallNow: wallNow)
        }
        running.batch = items
        // Nothing (more) to send: the empty last batch tells the target the partition is
        // complete, so it stops waiting for this source.
        running.batchIsLast = items.isEmpty || isLast
        runningTransfers[transfer] = running
        if items.isEmpty { return sendBatch(running) }
        return feedSender(transfer, now: now, wallNow: wallNow) {
            $0.onBatchRead(keys: items.count, bytes: bytes, lastKey: items.last?.key, isLast: isLast, now: now)
        }
    }

    /// The target answered a batch (nil: it failed or timed out). A failed batch ends this
    /// run of the transfer: it goes to the back of the queue (resuming after its cursor), so a
    /// target that is down does not hold up transfers to the others.
    mutating func handoffBatchAnswered(_ transfer: Handoff.Transfer, run: UInt64, _ message: WireMessage?, now: MonotonicTime,
                                       wallNow: WallClockTime) -> [NodeCommand] {
        guard let running = runningTransfers[transfer], running.run == run else { return [] }
        guard case .ack? = message else { return finishTransfer(transfer, done: false, now: now, wallNow: wallNow) }
        if running.batch.isEmpty {
            // The end-of-partition batch was stored: the transfer is complete.
            return feedSender(transfer, now: now, wallNow: wallNow) { $0.onBatchRead(keys: 0, bytes: 0, lastKey: nil, isLast: true, now: now) }
        }
        let keys = running.batch.count
        transfers[transfer]?.keysSent += keys
        var commands: [NodeCommand] = [.notice(.handoffKeysSent(keys))]
        commands += feedSender(transfer, now: now, wallNow: wallNow) { $0.onAcknowledged(now: now) }
        if let running = runningTransfers[transfer] { transfers[transfer]?.bytesSent = running.bytesBefore + running.sender.bytesSent }
        return commands
    }

    func isGone(_ node: NodeID) -> Bool { cluster.members[node]?.status.isTombstone ?? true }

    /// Queues transfers of `partition` to each of its current primaries (but this node), for
    /// a copy whose intended target is gone.
    mutating func sendToPrimaries(_ partition: Int) {
        guard let ring = cluster.ring?.ring, partition >= 0, partition < ring.partitionCount else { return }
        for primary in ring.preferenceList(for: partition, n: settings.replicas) where primary != id && !isGone(primary) {
            let transfer = Handoff.Transfer(partition: partition, source: id, target: primary)
            if let progress = transfers[transfer], progress.state.isActive { continue }
            transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
            transferAttempts[transfer] = nil
            transferQueue.append(transfer)
        }
    }

    /// A running transfer ended: done, retried later (the target may be restarting), or
    /// failed for good (its partition is left to the other old replicas and anti-entropy).
    mutating func finishTransfer(_ transfer: Handoff.Transfer, done: Bool, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard runningTransfers.removeValue(forKey: transfer) != nil else { return [] }
        let attempts = (transferAttempts[transfer] ?? 0) + 1
        if !done, !isGone(transfer.target), attempts < settings.transferMaxAttempts {
            transferAttempts[transfer] = attempts
            transfers[transfer]?.state = .queued
            transferQueue.append(transfer)
            var commands: [NodeCommand] = [.persistHandoff(handoffState)]
            if transferQueue.count == 1 && runningTransfers.isEmpty {
                // Only this one is owed: pause before trying it again.
                let at = now + settings.transferRetryDelayMilliseconds
                transferRetryAt = at
                commands.append(.schedule(.handoff, at: at))
            } else {
                commands += startNextTransfer(now: now, wallNow: wallNow)
            }
            return commands
        }
        transfers[transfer]?.state = done ? .done : .failed
        transferAttempts[transfer] = nil
        transferCursors[transfer] = nil
        if !done, isGone(transfer.target) { sendToPrimaries(transfer.partition) }
        var commands: [NodeCommand] = [.persistHandoff(handoffState), .notice(.transferEnded(transfer, done: done))]
        commands += startNextTransfer(now: now, wallNow: wallNow)
        commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        return commands
    }

    // MARK: former replicas' copies

    /// A copy of a partition this node no longer replicates (an *orphan*: it was a replica in
    /// an earlier ring), with its tree's `root`, while no transfer of it runs and it is not
    /// pending here. A copy that changed since it was last sent (or was never sent) goes to
    /// every current primary; a copy that every current primary has received whole since it
    /// last changed is removed (docs/design.md §3, "Dropping a former replica's copy"): each of
    /// them has merged everything it held, so nothing acknowledged depends on it any more.
    mutating func orphanExamined(_ partition: Int, root: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let ring = view.ring, partition >= 0, partition < ring.partitionCount,
              !ring.preferenceList(for: partition, n: settings.replicas).contains(id)
        else { return [] }
        if settings.brokenDropBeforeHandoff {
            return [.storage(operation: newOperation(.orphanDropped(partition: partition)), .dropPartition(partition: partition, root: root))]
        }
        let primaries = ring.preferenceList(for: partition, n: settings.replicas).filter { $0 != id && !isGone($0) }
        if orphanRoots[partition] != root {
            // Changed since last sent (or never sent): every primary gets it again, whole.
            orphanRoots[partition] = root
            for primary in primaries { transfers[Handoff.Transfer(partition: partition, source: id, target: primary)] = nil }
        }
        let owed = primaries.filter { transfers[Handoff.Transfer(partition: partition, source: id, target: $0)]?.state != .done }
        if owed.isEmpty, !primaries.isEmpty || root == MerkleTree().root {
            // The keys this node is storing now must not land in a store being removed.
            guard !gate.isBusy(where: { ring.partition(for: keyHash($0)) == partition }) else { return [] }
            return [.storage(operation: newOperation(.orphanDropped(partition: partition)), .dropPartition(partition: partition, root: root))]
        }
        // Not yet received whole by some primary (never sent since it changed, its transfer
        // failed, or the ring changed since): queue it to those.
        for primary in owed {
            let transfer = Handoff.Transfer(partition: partition, source: id, target: primary)
            transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
            transferAttempts[transfer] = nil
            transferQueue.append(transfer)
        }
        guard !owed.isEmpty else { return [] }
        return [.notice(.orphanHandedOff(partition: partition)), .persistHandoff(handoffState)]
            + startNextTransfer(now: now, wallNow: wallNow)
    }

    // MARK: writes during a ring change

    /// Writes during a ring change go to old and new replicas both (docs/design.md §3): a
    /// write this node stores for a partition it is still sending to a gained replica, or for a
    /// partition it no longer replicates (the coordinator still used the old ring), is passed
    /// on to them, so a write landing behind a transfer's cursor still reaches the new replica.
    func forwardDuringRingChange(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>, view: ClusterView) -> [NodeCommand] {
        guard let ring = view.ring, partition >= 0, partition < ring.partitionCount else { return [] }
        var targets = Set(transfers.values.filter { $0.transfer.partition == partition && $0.state.isActive }.map(\.transfer.target))
        let replicas = ring.preferenceList(for: partition, n: settings.replicas)
        if !replicas.contains(id) { targets.formUnion(replicas) }
        targets.remove(id)
        return targets.sorted().map { .send(to: $0, .readRepair(Replicate(key: key, partition: partition, object: object))) }
    }
}

extension NodeCore.HandoffState {
    /// The part of a node's handoff state that the instance `shard` owns: what an executor
    /// gives each instance after a restart.
    public func restricted(to shard: Shard) -> NodeCore.HandoffState {
        NodeCore.HandoffState(
            transfers: transfers.filter { shard.owns($0.transfer.partition) }, pending: pending.filter { shard.owns($0.key) },
            casAwaiting: casAwaiting.filter { shard.owns($0.key) }, casStrict: casStrict.filter { shard.owns($0) },
            casOwed: casOwed.filter { shard.owns($0.key) })
    }

    /// The handoff states of a node's instances as one (instances own disjoint partitions), so
    /// that a node restarted with another number of instances can restrict it anew.
    public static func merged(_ parts: [NodeCore.HandoffState]) -> NodeCore.HandoffState {
        var merged = NodeCore.HandoffState(transfers: [], pending: [:])
        for part in parts {
            merged.transfers += part.transfers
            merged.pending.merge(part.pending) { $0.union($1) }
            merged.casAwaiting.merge(part.casAwaiting) { $0.union($1) }
            merged.casStrict.formUnion(part.casStrict)
            merged.casOwed.merge(part.casOwed) { $0.union($1) }
        }
        return merged
    }
}
