import CairnCore
import Tracing
import CairnHTTP
import CairnNodeCore
import CairnTransport
import CairnWire

/// The executor of the node core: feeds it events and carries out its commands over the
/// internode transport and the node's stores, under the duties stated on `NodeCommand`.
extension NodeInstance {
    /// Feeds one event to the core and carries out every command that results, including
    /// those of storage operations that complete at once (reads); then tells the node's other
    /// instances of any change in what they need to know of this one.
    func drive(_ event: (inout NodeCore, MonotonicTime, WallClockTime) -> [NodeCommand]) {
        var pending = event(&core, clockNow(), wallTime())[...]
        defer {
            armTimer()
            if let status = core.statusIfChanged(now: clockNow()) {
                let from = shard.index
                for other in shared.instances(except: from) {
                    other.onLoop { $0.drive { $0.onShardStatus(from: from, status, now: $1, wallNow: $2) } }
                }
            }
        }
        var leaseFailed = false
        while let command = pending.popFirst() {
            switch command {
            case .send(let to, let message):
                guard let address = address(of: to) else { continue }
                pool.post(message, to: address)
            case .sendTo(let address, let message):
                pool.post(message, to: address)
            case .persistMembership(let state):
                do { try files.saveMembership(state, me: id, address: configuration.listenAddress) } catch {
                    logger.error("persisting membership failed", metadata: ["error": "\(error)"])
                }
            case .persistHandoff(let state):
                saveHandoffState(state)
            case .request(let call, _, .replicate, _) where leaseFailed:
                // Minted under a lease that is not durable: it must not leave this node.
                pending.append(contentsOf: core.onResponse(call: call, nil, now: clockNow(), wallNow: wallTime()))
            case .request(let call, let to, let message, let timeout):
                guard let address = address(of: to) else {
                    pending.append(contentsOf: core.onResponse(call: call, nil, now: clockNow(), wallNow: wallTime()))
                    continue
                }
                let (traced, span) = NodeTracing.outgoing(message, to: to)
                // What the answer leads to (a plain write's replicas after its read) stays in the trace.
                let context = span == nil ? nil : ServiceContext.current
                pool.request(traced, to: address, timeout: .milliseconds(Int64(timeout))) { result in
                    let reply = try? result.get()
                    NodeTracing.end(span, with: reply)
                    self.onLoop { instance in
                        NodeTracing.within(context) { instance.drive { $0.onResponse(call: call, reply, now: $1, wallNow: $2) } }
                    }
                }
            case .respond(let reply, let message):
                peerReplies.removeValue(forKey: reply)?(message)
            case .schedule(let timer, let at):
                timers.schedule(timer, at: at.milliseconds)
            case .storage(let operation, let storage):
                if leaseFailed, storage.isWrite {
                    pending.append(contentsOf: core.onStorage(
                        operation: operation, .failed(StorageFailure("the mint lease could not be persisted")),
                        now: clockNow(), wallNow: wallTime()))
                    continue
                }
                if let result = performNow(storage) {
                    pending.append(contentsOf: core.onStorage(operation: operation, result, now: clockNow(), wallNow: wallTime()))
                } else {
                    Task {
                        let result = await self.performLater(storage)
                        self.drive { $0.onStorage(operation: operation, result, now: $1, wallNow: $2) }
                    }
                }
            case .deleteHint(let hint):
                Task { try? await hintStore.delete(hint) }
            case .persistMintLease(let lease):
                do {
                    try files.saveMintLease(lease, instance: shard.index)
                    core.onMintLeasePersisted(lease)
                } catch {
                    logger.error("persisting the mint lease failed; refusing writes until it succeeds", metadata: ["error": "\(error)"])
                    core.onMintLeaseFailed()
                    leaseFailed = true
                }
            case .replyRead(let client, let result):
                guard let waiting = clientReads.removeValue(forKey: client) else { continue }
                metrics.latency(.get, since: waiting.started)
                switch result {
                case .found(let object):
                    metrics.quorum(.success)
                    metrics.readSiblings.record(object.siblings.count)
                    waiting.continuation.resume(returning: object)
                case .notFound:
                    metrics.quorum(.success)
                    waiting.continuation.resume(returning: nil)
                case .failed(let failure):
                    metrics.quorum(.failure)
                    waiting.continuation.resume(throwing: Self.serviceError(failure))
                }
            case .replyWrite(let client, let result):
                guard let waiting = clientWrites.removeValue(forKey: client) else { continue }
                metrics.latency(waiting.kind, since: waiting.started)
                switch result {
                case .stored(let context):
                    metrics.quorum(.success)
                    waiting.continuation.resume(returning: context)
                case .preconditionFailed(let current):
                    metrics.quorum(.success)
                    waiting.continuation.resume(throwing: KeyValueServiceError.preconditionFailed(current: current))
                case .failed(let failure):
                    metrics.quorum(.failure)
                    waiting.continuation.resume(throwing: Self.serviceError(failure))
                }
            case .replyScan(let client, let result):
                clientScans.removeValue(forKey: client)?.resume(with: result.mapError { Self.serviceError($0) as any Error })
            case .replyCAS(let client, let result):
                clientCAS.removeValue(forKey: client)?.resume(with: result.mapError { Self.serviceError($0) as any Error })
            case .publishCluster(let snapshot):
                if let ring = snapshot.ring { shared.learn(partitionCount: ring.ring.partitionCount) }
                for other in shared.instances(except: shard.index) {
                    other.onLoop { $0.drive { $0.onCluster(snapshot, now: $1, wallNow: $2) } }
                }
            case .notice(let notice):
                observe(notice)
            }
        }
    }

    /// Records of `partition` after `after`, up to about `maxBytes` and `maxKeys` (a handoff batch).
    func readBatch(partition: Int, after: [UInt8]?, maxBytes: Int, maxKeys: Int) throws -> StorageResult {
        let keys = try store.scan(partition: partition, after: after, limit: maxKeys + 1)
        var items: [KeyedObject] = []
        var bytes = 0
        for key in keys.prefix(maxKeys) {
            guard let record = try store.read(key, partition: partition) else { continue }
            items.append(KeyedObject(key: key, object: record.object))
            bytes += key.count + record.object.encode().count
            if bytes >= maxBytes { break }
        }
        let isLast = items.count == keys.count || (items.last?.key == keys.last && keys.count <= maxKeys)
        return .batch(items, bytes: bytes, isLast: isLast)
    }

    /// Carries out a storage operation that needs no waiting (a read of the mapped files).
    func performNow(_ storage: StorageCommand) -> StorageResult? {
        do {
            switch storage {
            case .read(let key, let partition, let hints):
                let record = try store.read(key, partition: partition)
                var objects: [DVVSet<[UInt8]>] = []
                for hint in hints {
                    if let entry = try hintStore.get(hint) { objects.append(entry.object) }
                }
                return .read(record.map { ReplicaRecord(object: $0.object, mintEpoch: $0.mintEpoch, storageTag: $0.storedVersionHash) },
                             hintObjects: objects)
            case .readTree(let partition):
                guard partition >= 0, partition < store.partitionCount else { return .tree(nil) }
                return .tree(try store.tree(partition))
            case .segmentObjects(let partition, let segments, let after, let limit):
                let keys = try store.keys(partition: partition, segments: Set(segments))
                    .filter { key in after.map { $0.lexicographicallyPrecedes(key) } ?? true }
                let page = keys.prefix(limit)
                var items: [KeyedObject] = []
                for key in page {
                    if let record = try store.read(key, partition: partition) { items.append(KeyedObject(key: key, object: record.object)) }
                }
                return .objects(items, next: keys.count > page.count ? page.last : nil)
            case .readBatch(let partition, let after, let maxBytes, let maxKeys):
                return try readBatch(partition: partition, after: after, maxBytes: maxBytes, maxKeys: maxKeys)
            case .scan(let partitions, let prefix, let after, let limit, let values, let examineLimit, let wallNow):
                let held = Set(store.partitions)
                let listings = try partitions.map { partition in
                    held.contains(partition) ? try store.scan(partition: partition, prefix: prefix, after: after, limit: limit + 1) : []
                }
                return .scanned(try ScanReply.merging(
                    listings: listings, limit: limit, examineLimit: examineLimit, values: values, wallNow: wallNow
                ) { try store.read($1, partition: partitions[$0])?.object })
            case .reapCandidates(let partition, let after, let limit, let wallNow):
                guard store.partitions.contains(partition) else { return .objects([], next: nil) }
                return try .reapCandidates(
                    listing: try store.scan(partition: partition, after: after, limit: limit + 1), limit: limit, wallNow: wallNow
                ) { try store.read($0, partition: partition)?.object }
            case .readCopies(let partition, let keys, let hints):
                let held = store.partitions.contains(partition)
                return .copies(try zip(keys, hints).map { key, ids in
                    var copies: [DVVSet<[UInt8]>] = []
                    if held, let record = try store.read(key, partition: partition) { copies.append(record.object) }
                    for id in ids { if let entry = try hintStore.get(id) { copies.append(entry.object) } }
                    return copies
                })
            case .readAcceptor(let key, let partition):
                return .acceptor(try paxos.state(key), object: try store.read(key, partition: partition)?.object)
            case .heldPartitions:
                return .partitions(store.partitions)
            case .readAcceptorStates(let after, let limit):
                let (states, next) = try paxos.page(after: after, limit: limit)
                return .acceptorStates(states, next: next)
            case .readHints(let ids):
                var entries: [HintEntry] = []
                for id in ids {
                    if let entry = try hintStore.get(id) { entries.append(HintEntry(hint: entry.hint, key: entry.key, object: entry.object)) }
                }
                return .hints(entries)
            case .write, .merge, .putHint, .writePaxos, .reap, .collectAcceptors, .dropPartition:
                return nil
            }
        } catch {
            return .failed(StorageFailure("\(error)"))
        }
    }

    /// Carries out a storage operation that waits for durability (group commit).
    func performLater(_ storage: StorageCommand) async -> StorageResult {
        do {
            switch storage {
            case .write(let key, let partition, let record, let previous):
                try await store.write(
                    key, partition: partition, record: ReplicaStore.Record(object: record.object, mintEpoch: record.mintEpoch),
                    previous: previous.map { ReplicaStore.Record(object: $0.object, mintEpoch: $0.mintEpoch, storedVersionHash: $0.storageTag) })
                return .done
            case .merge(let key, let partition, let object):
                let (changed, merged) = try await store.merge(key, partition: partition, object: object)
                return .merged(changed: changed, object: merged)
            case .putHint(let entry):
                try await hintStore.put(HintStore.Entry(hint: entry.hint, key: entry.key, object: entry.object))
                return .done
            case .writePaxos(let key, let state):
                try await paxos.save(key, state)
                return .done
            case .collectAcceptors(let after, let limit, let belowCounter):
                let (count, next) = try await paxos.collect(after: after, limit: limit, belowCounter: belowCounter)
                return .collected(count: count, next: next)
            case .reap(let key, let partition, let expected):
                // A member told to reap (`reapNow`) may hold nothing of the partition: no store is opened for it.
                guard store.partitions.contains(partition) else { return .merged(changed: false, object: expected) }
                return .merged(changed: try await store.reap(key, partition: partition, expected: expected), object: expected)
            case .dropPartition(let partition, let root):
                return .merged(changed: try await store.drop(partition: partition, root: root), object: DVVSet())
            case .read, .readHints, .readTree, .segmentObjects, .readAcceptor, .readBatch, .heldPartitions, .scan, .reapCandidates,
                 .readCopies, .readAcceptorStates:
                return performNow(storage) ?? .failed(StorageFailure("unexpected storage operation"))
            }
        } catch {
            return .failed(StorageFailure("\(error)"))
        }
    }

    /// What the core reports on the side: metrics, logs, and the shell's own follow-ups.
    func observe(_ notice: NodeNotice) {
        switch notice {
        case .readRepair:
            metrics.readRepairs.increment()
        case .hintStored:
            metrics.hintsStored.increment()
        case .hintsDelivered(let count):
            metrics.hintsDelivered.increment(by: count)
        case .hintDropped(let partition, let owner, let reason):
            metrics.hintsDropped.increment()
            logger.warning("dropped a hint; asking for anti-entropy", metadata: [
                "cairn.partition": "\(partition)", "cairn.owner": "\(owner)", "cairn.reason": "\(reason)",
            ])
        case .exchanged(let partition, let peer, let segments, let repaired):
            metrics.exchanges.increment()
            metrics.exchangeRepairs.increment(by: repaired)
            let previous = exchanges[partition]
            exchanges[partition] = ExchangeRecord(
                peer: peer, at: clockNow(), segmentsDiffering: segments, repaired: repaired,
                exchanges: (previous?.exchanges ?? 0) + 1, repairedTotal: (previous?.repairedTotal ?? 0) + repaired)
        case .storageFailed(let context, let failure):
            logger.error("storage failed", metadata: ["cairn.context": "\(context)", "error": "\(failure)"])
        case .ringChanged(let version, let members):
            if let ring, ring.partitionCount != configuration.partitions {
                logger.warning("the cluster's ring has another partition count than --partitions; the cluster's wins", metadata: [
                    "cairn.ring_partitions": "\(ring.partitionCount)", "cairn.configured": "\(configuration.partitions)",
                ])
            }
            logger.info("ring changed", metadata: ["cairn.ring_version": "\(version)", "cairn.members": "\(members)"])
        case .memberChanged(let member):
            logger.info("member changed", metadata: [
                "cairn.member": "\(member.id)", "cairn.address": "\(member.address)", "cairn.status": "\(member.status)",
            ])
        case .reachabilityChanged(let node, let reachable):
            logger.notice("reachability changed", metadata: ["cairn.peer": "\(node)", "cairn.reachable": "\(reachable)"])
        case .rejectedOtherCluster(let from, let clusterName):
            logger.warning("ignored a message from another cluster", metadata: [
                "cairn.peer": "\(from)", "cairn.their_cluster": "\(clusterName)",
            ])
        case .membershipRefused(let refusal, let from):
            metrics.membershipRefused.increment()
            // A ring ahead of its entries is routine while gossip catches up; an entry refused
            // is a forgery or a node this one cannot verify.
            if case .ring = refusal {
                logger.debug("membership refused", metadata: ["cairn.peer": "\(from)", "cairn.refused": "\(refusal)"])
            } else {
                logger.warning("membership refused", metadata: ["cairn.peer": "\(from)", "cairn.refused": "\(refusal)"])
            }
        case .left:
            logger.notice("left the cluster; this node no longer serves requests")
        case .clockSkew(let correction, let bound, let outOfRange):
            let seconds = Double(correction.magnitude) / 1_000
            if outOfRange {
                logger.error(
                    "most members' clocks are more than a day from this machine's; the cluster clock cannot follow them: TTLs, hint ages and reaping are wrong here until its time is fixed (NTP)",
                    metadata: ["cairn.clock_correction_ms": "\(correction)"])
            } else if correction.magnitude > bound {
                logger.warning(
                    "this machine's clock is \(seconds) s \(correction > 0 ? "behind" : "ahead of") the cluster's median; TTLs, hint ages and reaping use the corrected time, but fix its time synchronisation (NTP)",
                    metadata: ["cairn.clock_correction_ms": "\(correction)", "cairn.clock_bound_ms": "\(bound)"])
            } else {
                logger.notice("this machine's clock is back within the bound of the cluster's median", metadata: [
                    "cairn.clock_correction_ms": "\(correction)", "cairn.clock_bound_ms": "\(bound)",
                ])
            }
        case .handoffPlanned(let outgoing, let pending):
            logger.info("handoff planned", metadata: ["cairn.from_here": "\(outgoing)", "cairn.pending_here": "\(pending)"])
        case .handoffKeysSent(let keys):
            metrics.handoffKeysSent.increment(by: keys)
        case .transferDone(let transfer, let keys):
            logger.info("handoff done", metadata: [
                "cairn.partition": "\(transfer.partition)", "cairn.target": "\(transfer.target)", "cairn.keys": "\(keys)",
            ])
        case .transferEnded(let transfer, let done):
            metrics.handoffsCompleted.increment()
            if !done {
                logger.warning("handoff failed for good; anti-entropy covers it", metadata: [
                    "cairn.partition": "\(transfer.partition)", "cairn.target": "\(transfer.target)",
                ])
            }
        case .reaped:
            metrics.keysReaped.increment()
        case .orphanHandedOff(let partition):
            logger.notice("sending a copy of a partition this node does not replicate to its primaries", metadata: [
                "cairn.partition": "\(partition)",
            ])
        case .acceptorsCollected(let count):
            metrics.acceptorsCollected.increment(by: count)
        case .orphanDropped(let partition):
            metrics.orphansDropped.increment()
            logger.notice("dropped this node's copy of a partition every primary now holds", metadata: [
                "cairn.partition": "\(partition)",
            ])
        case .casStatesGathered(let partition):
            metrics.casPartitionsGathered.increment()
            logger.info("acceptor states of a gained partition gathered; serving CAS for it", metadata: ["cairn.partition": "\(partition)"])
        case .partitionSettled(let partition, let reason):
            logger.info("partition settled here", metadata: ["cairn.partition": "\(partition)", "cairn.reason": "\(reason)"])
        case .pendingValveOpened(let partition, let waitingFor):
            logger.warning("partition still pending after the limit; serving it", metadata: [
                "cairn.partition": "\(partition)", "cairn.waiting_for": "\(waitingFor)",
            ])
        }
    }

    func newTicket() -> UInt64 {
        defer { nextTicket += 1 }
        return nextTicket
    }

    /// A peer's request of the data path: `reply` is called once the core has done its work.
    func answer(_ message: WireMessage, from peer: NodeID, reply: @escaping @Sendable (WireMessage) -> Void) {
        let (message, context) = message.untraced
        let ticket = newTicket()
        if let span = NodeTracing.incoming(message, context: context, from: peer, at: id) {
            peerReplies[ticket] = { answer in
                NodeTracing.end(span, with: answer)
                reply(answer)
            }
            // Requests this one makes of other nodes (a forwarded write's replicas) join its trace.
            ServiceContext.withValue(span.context) {
                drive { $0.onPeerRequest(from: peer, reply: ticket, message, now: $1, wallNow: $2) }
            }
            return
        }
        peerReplies[ticket] = reply
        drive { $0.onPeerRequest(from: peer, reply: ticket, message, now: $1, wallNow: $2) }
    }

    /// `answer` for a caller that waits.
    func answer(_ message: WireMessage, from peer: NodeID) async -> WireMessage {
        await withCheckedContinuation { continuation in
            answer(message, from: peer) { continuation.resume(returning: $0) }
        }
    }

    func receiveOneWay(_ message: WireMessage, from peer: NodeID) {
        drive { $0.onPeerMessage(from: peer, message, now: $1, wallNow: $2) }
    }
}

extension StorageCommand {
    /// Whether the operation stores something (and so may carry a freshly minted dot).
    var isWrite: Bool {
        switch self {
        case .write, .merge, .putHint: true
        case .read, .readHints, .readTree, .segmentObjects, .readAcceptor, .writePaxos, .readBatch, .heldPartitions, .scan,
             .reapCandidates, .readCopies, .reap, .dropPartition, .collectAcceptors, .readAcceptorStates: false
        }
    }
}
