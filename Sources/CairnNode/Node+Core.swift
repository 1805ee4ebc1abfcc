import CairnCore
import CairnHTTP
import CairnNodeCore
import CairnTransport
import CairnWire

/// The executor of the node core: feeds it events and carries out its commands over the
/// internode transport and the node's stores, under the duties stated on `NodeCommand`.
extension Node {
    /// What the core needs to know of the cluster now.
    func clusterView() -> ClusterView {
        let pending = pendingIn
        return ClusterView(ring: ring, isReachable: reachability(), isPending: { pending[$0] != nil })
    }

    /// Feeds one event to the core and carries out every command that results, including
    /// those of storage operations that complete at once (reads).
    func drive(_ event: (inout NodeCore, ClusterView, UInt64, UInt64) -> [NodeCommand]) {
        let view = clusterView()
        var pending = event(&core, view, monotonicNow(), wallNow())[...]
        var leaseFailed = false
        while let command = pending.popFirst() {
            switch command {
            case .send(let to, let message):
                guard let address = address(of: to) else { continue }
                Task { try? await pool.send(message, to: address) }
            case .request(let call, let to, let message, let timeout):
                guard let address = address(of: to) else {
                    pending.append(contentsOf: core.onResponse(call: call, nil, view: view, now: monotonicNow(), wallNow: wallNow()))
                    continue
                }
                Task {
                    let reply = try? await pool.request(message, to: address, timeout: .milliseconds(Int64(timeout)))
                    self.drive { $0.onResponse(call: call, reply, view: $1, now: $2, wallNow: $3) }
                }
            case .respond(let reply, let message):
                peerReplies.removeValue(forKey: reply)?.resume(returning: message)
            case .schedule(let timer, let at):
                timers.schedule(.core(timer), at: at)
            case .storage(let operation, let storage):
                if leaseFailed, storage.isWrite {
                    pending.append(contentsOf: core.onStorage(
                        operation: operation, .failed(StorageFailure("the mint lease could not be persisted")), view: view,
                        now: monotonicNow(), wallNow: wallNow()))
                    continue
                }
                if let result = performNow(storage) {
                    pending.append(contentsOf: core.onStorage(operation: operation, result, view: view, now: monotonicNow(), wallNow: wallNow()))
                } else {
                    Task {
                        let result = await self.performLater(storage)
                        self.drive { $0.onStorage(operation: operation, result, view: $1, now: $2, wallNow: $3) }
                    }
                }
            case .deleteHint(let hint):
                Task { try? await hintStore.delete(hint) }
            case .persistMintLease(let lease):
                do {
                    try files.saveMintLease(lease)
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
                case .failed(let failure):
                    metrics.quorum(.failure)
                    waiting.continuation.resume(throwing: Self.serviceError(failure))
                }
            case .replyCAS(let client, let result):
                clientCAS.removeValue(forKey: client)?.resume(with: result.mapError { Self.serviceError($0) as any Error })
            case .localMergeDone(let token, let result):
                localMerges.removeValue(forKey: token)?.resume(with: result.mapError { $0 as any Error })
            case .notice(let notice):
                observe(notice)
            }
        }
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
            case .readPaxos(let key):
                return .paxos(try paxos.state(key))
            case .readHints(let ids):
                var entries: [HintEntry] = []
                for id in ids {
                    if let entry = try hintStore.get(id) { entries.append(HintEntry(hint: entry.hint, key: entry.key, object: entry.object)) }
                }
                return .hints(entries)
            case .write, .merge, .putHint, .writePaxos:
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
            case .read, .readHints, .readTree, .segmentObjects, .readPaxos:
                return performNow(storage) ?? .failed(StorageFailure("unexpected storage operation"))
            }
        } catch {
            return .failed(StorageFailure("\(error)"))
        }
    }

    /// What the core reports on the side: metrics, logs, and the shell's own follow-ups.
    func observe(_ notice: NodeNotice) {
        switch notice {
        case .replicaChanged(let key, let partition, let object):
            forwardDuringRingChange(key: key, partition: partition, object: object)
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
        case .exchanged(_, _, _, let repaired):
            metrics.exchanges.increment()
            metrics.exchangeRepairs.increment(by: repaired)
        case .storageFailed(let context, let failure):
            logger.error("storage failed", metadata: ["cairn.context": "\(context)", "error": "\(failure)"])
        }
    }

    func newTicket() -> UInt64 {
        defer { nextTicket += 1 }
        return nextTicket
    }

    /// Merges an object into the replica in the key's order (anti-entropy, handoff); whether
    /// the stored record changed.
    @discardableResult
    func mergeLocally(key: [UInt8], partition: Int, object: DVVSet<[UInt8]>) async throws -> Bool {
        let token = newTicket()
        return try await withCheckedThrowingContinuation { continuation in
            localMerges[token] = continuation
            drive { $0.onLocalMerge(token: token, key: key, partition: partition, object: object, view: $1, now: $2, wallNow: $3) }
        }
    }

    /// A peer's request of the data path, answered once the core has done its work.
    func answer(_ message: WireMessage, from peer: NodeID) async -> WireMessage {
        let reply = newTicket()
        return await withCheckedContinuation { continuation in
            peerReplies[reply] = continuation
            drive { $0.onPeerRequest(from: peer, reply: reply, message, view: $1, now: $2, wallNow: $3) }
        }
    }

    func receiveOneWay(_ message: WireMessage, from peer: NodeID) {
        drive { $0.onPeerMessage(from: peer, message, view: $1, now: $2, wallNow: $3) }
    }
}

extension StorageCommand {
    /// Whether the operation stores something (and so may carry a freshly minted dot).
    var isWrite: Bool {
        switch self {
        case .write, .merge, .putHint: true
        case .read, .readHints, .readTree, .segmentObjects, .readPaxos, .writePaxos: false
        }
    }
}
