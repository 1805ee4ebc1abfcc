import CairnCore
import CairnHTTP
import CairnTransport
import CairnWire

/// Ring changes: the transfers this node owes (`Handoff.Plan`, each driven by a throttled
/// `Handoff.Sender`), and the operator's leave and remove.
extension Node {
    struct TransferProgress: Sendable {
        var transfer: Handoff.Transfer
        var state: String
        var keysSent = 0
        var bytesSent = 0
    }

    /// The ring moved from `old` to `new`: queue the transfers this node is the source of.
    func ringMoved(from old: Ring?, to new: Ring) {
        guard let old, old != new else { return }
        let plan = Handoff.Plan(RingDiff(from: old, to: new), replicas: configuration.replicas)
        let mine = plan.transfers.filter { $0.source == id && $0.target != id }
        // Finished transfers of earlier ring changes are history; keep the status short.
        transfers = transfers.filter { $0.value.state != "done" }
        for transfer in mine where transfers[transfer] == nil {
            transfers[transfer] = TransferProgress(transfer: transfer, state: "queued")
            transferQueue.append(transfer)
        }
        logger.info("handoff planned", metadata: [
            "cairn.transfers": "\(plan.transfers.count)", "cairn.from_here": "\(mine.count)",
        ])
        if transferRunner == nil, !transferQueue.isEmpty {
            transferRunner = Task { await self.runTransfers() }
        }
    }

    /// Runs the queued transfers one at a time (each throttled by its sender).
    func runTransfers() async {
        while !transferQueue.isEmpty, !isStopping {
            let transfer = transferQueue.removeFirst()
            transfers[transfer]?.state = "sending"
            let done = await send(transfer)
            transfers[transfer]?.state = done ? "done" : "failed"
            metrics.handoffsCompleted.increment()
        }
        transferRunner = nil
        if membership.myself.status == .leaving, transfers.values.allSatisfy({ $0.state == "done" }) {
            finishLeaving()
        }
    }

    /// One partition to one new replica, in batches the target merges and acknowledges.
    func send(_ transfer: Handoff.Transfer) async -> Bool {
        var sender = Handoff.Sender(transfer, bytesPerSecond: 16 << 20, batchBytes: 256 << 10, retryMilliseconds: 500)
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
                    let read = readBatch(partition: partition, after: after, maxBytes: maxBytes)
                    batch = read.items
                    batchIsLast = read.isLast
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
                case .persistCursor:
                    break  // A restart replans from the ring and resends; the merge makes that harmless.
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

    /// Records of `partition` after `after`, up to about `maxBytes`.
    func readBatch(partition: Int, after: [UInt8]?, maxBytes: Int) -> (items: [KeyedObject], bytes: Int, isLast: Bool) {
        guard let keys = try? store.scan(partition: partition, after: after, limit: 1_025) else { return ([], 0, true) }
        var items: [KeyedObject] = []
        var bytes = 0
        for key in keys.prefix(1_024) {
            guard let record = try? store.read(key, partition: partition) else { continue }
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
