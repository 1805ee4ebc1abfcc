import CairnCore
import CairnHTTP
import CairnTransport
import CairnWire

/// Ring changes: the transfers this node owes (`Handoff.Plan`, each driven by a throttled
/// `Handoff.Sender`), and the operator's leave and remove.
extension Node {
    struct TransferProgress: Sendable {
        enum State: String, Sendable {
            case queued, sending, done, failed
            /// Still to be sent (writes to its partition are passed on to its target).
            var isActive: Bool { self == .queued || self == .sending }
        }

        var transfer: Handoff.Transfer
        var state: State
        var keysSent = 0
        var bytesSent = 0
    }

    /// The ring moved from `old` to `new`.
    ///
    /// A partition that gains a replica is *pending* on it (DESIGN.md §3). Every old replica
    /// of the partition sends it its copy (not just one: a write acknowledged by W of N old
    /// replicas is on any N − W + 1 of them, so one source could lack it). Until the new
    /// replica has the whole partition from every old replica still reachable, it refuses
    /// reads of the partition, so quorum reads are answered by replicas that hold the data;
    /// writes reach it at once.
    func ringMoved(from old: Ring?, to new: Ring) {
        guard let old, old != new else { return }
        let n = configuration.replicas
        var queued = 0
        // Finished transfers of earlier ring changes are history; keep the status short.
        transfers = transfers.filter { $0.value.state.isActive }
        for change in RingDiff(from: old, to: new).replicaChanges(n: n) {
            let oldReplicas = old.preferenceList(for: change.partition, n: n)
            if oldReplicas.contains(id) {
                for target in change.gained where target != id {
                    let transfer = Handoff.Transfer(partition: change.partition, source: id, target: target)
                    guard transfers[transfer] == nil else { continue }
                    transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
                    transferQueue.append(transfer)
                    queued += 1
                }
            }
            if change.gained.contains(id) {
                // A source may have finished before this node saw the ring change.
                let sources = Set(oldReplicas).subtracting([id]).subtracting(finishedEarly[change.partition] ?? [])
                if !sources.isEmpty {
                    pendingIn[change.partition] = sources
                    pendingSince[change.partition] = monotonicNow()
                }
            }
        }
        finishedEarly = [:]
        saveHandoffState()
        logger.info("handoff planned", metadata: [
            "cairn.from_here": "\(queued)", "cairn.pending_here": "\(pendingIn.count)",
        ])
        if transferRunner == nil, !transferQueue.isEmpty {
            transferRunner = Task { await self.runTransfers() }
        }
    }

    /// A source finished sending `partition` here.
    func handoffReceived(partition: Int, from source: NodeID, isLast: Bool) {
        guard var sources = pendingIn[partition] else {
            // Not pending (yet): remember a finished source for the ring change to come.
            if isLast, finishedEarly.count < 4_096 { finishedEarly[partition, default: []].insert(source) }
            return
        }
        // Data is flowing: the safety valve counts from the latest batch.
        pendingSince[partition] = monotonicNow()
        guard isLast else { return }
        sources.remove(source)
        settle(partition, waitingFor: sources, reason: "received from \(source)")
    }

    /// Stops waiting for sources that are gone (left, removed) or unreachable: what only they
    /// held was acknowledged by fewer replicas than the others cover.
    func reviewPending() {
        let now = monotonicNow()
        for (partition, sources) in pendingIn {
            // A safety valve: a source that never finishes (it lost the data, or it is itself
            // still receiving) must not keep the partition unreadable here; anti-entropy
            // brings whatever is still missing.
            if let since = pendingSince[partition], now - since > Self.maximumPendingMilliseconds {
                logger.warning("partition still pending after the limit; serving it", metadata: [
                    "cairn.partition": "\(partition)", "cairn.waiting_for": "\(sources.count)",
                ])
                settle(partition, waitingFor: [], reason: "pending limit")
                continue
            }
            let waiting = sources.filter { source in
                membership.state.members[source].map { !$0.status.isTombstone } ?? false && isReachable(source)
            }
            if waiting != sources { settle(partition, waitingFor: waiting, reason: "sources unreachable or gone") }
        }
    }

    func settle(_ partition: Int, waitingFor sources: Set<NodeID>, reason: String) {
        defer { saveHandoffState() }
        if sources.isEmpty {
            pendingIn[partition] = nil
            pendingSince[partition] = nil
            logger.info("partition settled here", metadata: ["cairn.partition": "\(partition)", "cairn.reason": "\(reason)"])
        } else {
            pendingIn[partition] = sources
        }
    }

    func isPending(_ partition: Int) -> Bool { pendingIn[partition] != nil }

    /// How long a pending partition waits without any batch arriving before it is served anyway.
    static let maximumPendingMilliseconds: UInt64 = 300_000

    /// Runs the queued transfers one at a time (each throttled by its sender).
    func runTransfers() async {
        while !transferQueue.isEmpty, !isStopping {
            let transfer = transferQueue.removeFirst()
            currentTransfer = transfer
            transfers[transfer]?.state = .sending
            let done = await send(transfer)
            currentTransfer = nil
            if isStopping { break }
            let attempts = (transferAttempts[transfer] ?? 0) + 1
            let targetLive = membership.state.members[transfer.target].map { !$0.status.isTombstone } ?? false
            if !done, targetLive, attempts < 10 {
                // Try again later (the target may be restarting), keeping the cursor.
                transferAttempts[transfer] = attempts
                transfers[transfer]?.state = .queued
                transferQueue.append(transfer)
                saveHandoffState()
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            transfers[transfer]?.state = done ? .done : .failed
            transferAttempts[transfer] = nil
            transferCursors[transfer] = nil
            saveHandoffState()
            metrics.handoffsCompleted.increment()
        }
        transferRunner = nil
        // Leaving completes once nothing is queued or being sent; a transfer that failed for good
        // leaves its partition to the other old replicas and anti-entropy.
        if membership.myself.status == .leaving, transferQueue.isEmpty {
            finishLeaving()
        }
    }

    /// One partition to one new replica, in batches the target merges and acknowledges.
    func send(_ transfer: Handoff.Transfer) async -> Bool {
        var sender = Handoff.Sender(
            transfer, resumingAfter: transferCursors[transfer], bytesPerSecond: 16 << 20, batchBytes: 256 << 10,
            retryMilliseconds: 500)
        var effects = sender.start(now: monotonicNow())
        var batch: [KeyedObject] = []
        var batchIsLast = false
        var failures = 0
        while !effects.isEmpty {
            if isStopping { return false }
            var next: [Handoff.Sender.Effect] = []
            for effect in effects {
                switch effect {
                case .read(let partition, let after, let maxBytes):
                    guard let read = readBatch(partition: partition, after: after, maxBytes: maxBytes) else {
                        // A read error must not look like the end of the partition: fail the
                        // transfer (it is retried) rather than tell the target it is complete.
                        return false
                    }
                    batch = read.items
                    batchIsLast = read.isLast
                    if batch.isEmpty {
                        // Nothing (more) to send: tell the target the partition is complete, so
                        // it stops waiting for this source.
                        guard await sendEndOfPartition(transfer) else { return false }
                    }
                    next += sender.onBatchRead(
                        keys: batch.count, bytes: read.bytes, lastKey: batch.last?.key, isLast: read.isLast, now: monotonicNow())
                case .send:
                    guard let address = address(of: transfer.target) else { return false }
                    let message = WireMessage.handoffBatch(HandoffBatch(
                        partition: transfer.partition, items: batch, cursor: batch.last?.key, isLast: batchIsLast))
                    if case .ack? = try? await pool.request(message, to: address, timeout: .seconds(10)) {
                        next += sender.onAcknowledged(now: monotonicNow())
                        metrics.handoffKeysSent.increment(by: batch.count)
                        transfers[transfer]?.keysSent = sender.keysSent
                        transfers[transfer]?.bytesSent = sender.bytesSent
                    } else {
                        failures += 1
                        // A target gone for good (removed) ends the transfer; anti-entropy
                        // covers whatever it missed.
                        if failures > 120 || membership.state.members[transfer.target]?.status.isTombstone == true { return false }
                        next += sender.onFailed(now: monotonicNow())
                    }
                case .persistCursor(_, let cursor):
                    transferCursors[transfer] = cursor
                    saveHandoffState()
                case .wake(let at):
                    let now = monotonicNow()
                    if at > now { try? await Task.sleep(for: .milliseconds(Int64(at - now))) }
                    next += sender.onTimer(now: monotonicNow())
                case .completed:
                    logger.info("handoff done", metadata: [
                        "cairn.partition": "\(transfer.partition)", "cairn.target": "\(transfer.target)",
                        "cairn.keys": "\(sender.keysSent)",
                    ])
                    return true
                }
            }
            effects = next
        }
        return sender.isDone
    }

    /// An empty last batch: the partition (or its rest) is empty.
    func sendEndOfPartition(_ transfer: Handoff.Transfer) async -> Bool {
        for attempt in 0..<120 {
            if isStopping || membership.state.members[transfer.target]?.status.isTombstone == true { return false }
            guard let address = address(of: transfer.target) else { return false }
            let message = WireMessage.handoffBatch(HandoffBatch(partition: transfer.partition, items: [], cursor: nil, isLast: true))
            if case .ack? = try? await pool.request(message, to: address, timeout: .seconds(10)) { return true }
            try? await Task.sleep(for: .milliseconds(attempt < 10 ? 200 : 1_000))
        }
        return false
    }

    /// Records of `partition` after `after`, up to about `maxBytes`.
    func readBatch(partition: Int, after: [UInt8]?, maxBytes: Int) -> (items: [KeyedObject], bytes: Int, isLast: Bool)? {
        let keys: [[UInt8]]
        do { keys = try store.scan(partition: partition, after: after, limit: 1_025) } catch {
            logger.error("handoff read failed", metadata: ["cairn.partition": "\(partition)", "error": "\(error)"])
            return nil
        }
        var items: [KeyedObject] = []
        var bytes = 0
        for key in keys.prefix(1_024) {
            let record: ReplicaStore.Record?
            do { record = try store.read(key, partition: partition) } catch {
                logger.error("handoff read failed", metadata: ["cairn.partition": "\(partition)", "error": "\(error)"])
                return nil
            }
            guard let record else { continue }
            items.append(KeyedObject(key: key, object: record.object))
            bytes += key.count + record.object.encode().count
            if bytes >= maxBytes { break }
        }
        let isLast = items.count == keys.count || (items.last?.key == keys.last && keys.count <= 1_024)
        return (items, bytes, isLast)
    }

    // MARK: leave and remove

    /// `cairn cluster leave`: this node becomes `leaving`, the next ring excludes it, it hands
    /// its partitions to their new replicas, then becomes `left` and stops serving.
    func leave(node: String?) throws {
        if let node, resolveMember(node) != id {
            throw KeyValueServiceError.membershipConflict(
                "a node leaves by itself: send the leave to \(node) (cairn cluster leave --node <its HTTP address>)")
        }
        do {
            performMembership(try membership.onLeave(nowMilliseconds: monotonicNow()))
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot leave: \(error)")
        }
        logger.notice("leaving the cluster: handing partitions off", metadata: ["cairn.transfers": "\(transferQueue.count)"])
        if transferRunner == nil { finishLeaving() }
    }

    func finishLeaving() {
        do {
            performMembership(try membership.onHandoffComplete(nowMilliseconds: monotonicNow()))
            logger.notice("left the cluster; this node no longer serves requests")
        } catch {
            logger.error("completing the leave failed", metadata: ["error": "\(error)"])
        }
    }

    /// `cairn cluster remove NODE`: an operator removes a member (a node that is gone for good).
    func remove(node: String) throws {
        guard let member = resolveMember(node) else { throw KeyValueServiceError.nodeNotFound(node) }
        do {
            performMembership(try membership.onRemove(member, nowMilliseconds: monotonicNow()))
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot remove \(node): \(error)")
        }
    }

    /// A member by its id (32 hex digits) or its internode address.
    func resolveMember(_ text: String) -> NodeID? {
        if let id = NodeID(hex: text), membership.state.members[id] != nil { return id }
        return membership.state.members.values.first { $0.address == text }?.id
    }
}
