import CairnCore
import CairnNodeCore

/// The simulator as an executor of the node core (the code `cairnd` runs): client requests
/// and peer messages go in as events, the core's commands are carried out over `SimNetwork`,
/// the virtual clock and the node's simulated disk, under the duties stated on `NodeCommand`.
extension Simulation {
    func ring(at node: Int) -> Ring? { nodes[node].core?.ring }

    func nodeIndex(_ id: NodeID) -> Int { Int(id.low) - 1 }

    /// Node `node`'s wall clock as its core reads it: virtual time off by the node's skew
    /// (monotonic time is never skewed), plus the correction its home instance estimates
    /// (`ClusterClock`), as `cairnd` applies it. While clients run, the largest difference
    /// from virtual time is recorded: the error every TTL and expiry decision may carry, which
    /// the checkers tolerate.
    func wallClock(at node: Int) -> WallClockTime {
        let correction = nodes[node].core?.clockCorrectionMilliseconds ?? 0
        let corrected = Int64(queue.now) + nodes[node].skewMilliseconds + correction
        if clientsStarted {
            stats.clockErrorMilliseconds = max(stats.clockErrorMilliseconds, (corrected - Int64(queue.now)).magnitude)
        }
        return WallClockTime(millisecondsSince1970: UInt64(max(0, corrected)))
    }

    /// The clients' wall clock: virtual time, never skewed (what the checkers judge expiry by).
    var clientWallClock: WallClockTime { WallClockTime(millisecondsSince1970: queue.now) }

    /// The core's settings in the simulator: the node's rules, with the simulation's quorums,
    /// shorter timeouts and smaller hint bounds.
    var coreSettings: NodeCore.Settings {
        var settings = NodeCore.Settings(
            replicas: options.n, readQuorum: options.r, writeQuorum: options.w, requestTimeoutMilliseconds: requestTimeoutMilliseconds,
            readRepairWindowMilliseconds: 200, siblingLimit: 64, hintDeliveryTimeoutMilliseconds: 1_000, hintLimits: hintLimits,
            maintenanceIntervalMilliseconds: 100, handoffBytesPerSecond: 1 << 20, handoffBatchBytes: 4 << 10, handoffBatchKeys: 64,
            handoffBatchTimeoutMilliseconds: 1_000, transferRetryDelayMilliseconds: 500, pendingSafetyValveMilliseconds: 10_000,
            handoffRequestIntervalMilliseconds: 1_000, orphanCheckIntervalMilliseconds: 1_000)
        settings.clockProbeIntervalMilliseconds = 500
        return settings
    }

    /// A fresh core from what the node's disk holds (at boot).
    func bootCore(_ index: Int, membership: Membership.Instance, afterUncleanStop: Bool) {
        var settings = coreSettings
        if options.broken == .fixedMintEpoch { settings.brokenFixedMintEpoch = UInt64(nodes[index].disksLost) << 40 }
        settings.brokenLocalCASRead = options.broken == .localCASRead
        settings.brokenPlainWritesBlind = options.broken == .plainWritesBlind
        settings.brokenNoClockCorrection = options.broken == .uncorrectedClocks
        settings.brokenLocalScan = options.broken == .localScan
        settings.brokenReapWithoutConfirmation = options.broken == .reapWithoutConfirmation
        settings.brokenDropBeforeHandoff = options.broken == .dropBeforeHandoff
        settings.brokenCASWithoutStateHandoff = options.broken == .casWithoutStateHandoff
        settings.reapGraceMilliseconds = reapGraceMilliseconds
        settings.acceptorGraceMilliseconds = acceptorGraceMilliseconds
        let hints = nodes[index].hintLog.values.sorted { $0.id < $1.id }.compactMap { hint -> HintEntry? in
            guard let record = nodes[index].hintRecords[hint.id] else { return nil }
            return HintEntry(hint: hint, key: SimKeys.bytes(record.key), object: record.object)
        }
        // Each instance gets its part of what the node's disk holds; leases and hint ids start
        // above the highest any instance used.
        let lease = nodes[index].mintLeases.values.max() ?? 0
        let hintIDFloor = (nodes[index].hintLog.keys.max() ?? 0) + 1
        let handoff = NodeCore.HandoffState.merged(nodes[index].handoffStates.keys.sorted().compactMap { nodes[index].handoffStates[$0] })
        let shards = Shard.all(count: nodes[index].shardCount)
        nodes[index].cores = shards.map { shard in
            NodeCore(
                id: nodes[index].id, shard: shard, settings: settings, membership: membership, persistedLease: lease,
                hints: hints.filter { shard.owns($0.hint.partition) }, hintIDFloor: hintIDFloor, handoff: handoff.restricted(to: shard),
                now: MonotonicTime(milliseconds: queue.now), wallNow: wallClock(at: index),
                incarnation: UInt32(truncatingIfNeeded: nodeRandom.next()), afterUncleanStop: afterUncleanStop,
                keyHash: { SimKeys.hash(bytes: $0) })
        }
        nodes[index].clientTickets = [:]
        nodes[index].replyRoutes = [:]
        nodes[index].openCalls = []
        for shard in shards { drive(index, shard: shard.index) { core, now, wall in core.start(now: now, wallNow: wall) } }
    }

    /// Where node `node`'s executor hands each event (`ShardRouter`).
    func router(at node: Int) -> ShardRouter {
        ShardRouter(shardCount: nodes[node].shardCount, partitionCount: nodes[node].core?.ring?.partitionCount,
                    keyHash: { SimKeys.hash(bytes: $0) })
    }

    /// Feeds one event to core instance `shard` of node `node` and carries out the commands,
    /// storage completions included (the simulated disk completes at once); what the instance
    /// hands the node's other instances goes to them through the event queue, in order.
    func drive(_ node: Int, shard: Int = 0, _ event: (inout NodeCore, MonotonicTime, WallClockTime) -> [NodeCommand]) {
        guard nodes[node].isUp, shard < nodes[node].cores.count else { return }
        var core = nodes[node].cores[shard]
        let generation = nodes[node].generation
        let others = nodes[node].cores.indices.filter { $0 != shard }
        let now = MonotonicTime(milliseconds: queue.now)
        let wall = wallClock(at: node)
        var pending = event(&core, now, wall)[...]
        while let command = pending.popFirst() {
            switch command {
            case .send(let to, let message):
                send(.oneWay(message), from: node, to: nodeIndex(to))
            case .sendTo(let address, let message):
                guard let to = SimNode.index(of: address), to < nodes.count else {
                    violations.append("node \(node) sent to unknown address \(address)")
                    continue
                }
                send(.oneWay(message), from: node, to: to)
            case .persistMembership(let state):
                nodes[node].membershipState = state
            case .persistHandoff(let state):
                nodes[node].handoffStates[shard] = state
            case .request(let call, let to, let message, let timeout):
                nodes[node].openCalls.insert(ShardCall(shard: shard, call: call))
                send(.request(call: call, shard: shard, message), from: node, to: nodeIndex(to))
                queue.schedule(.callTimeout(node: node, generation: generation, shard: shard, call: call), after: timeout)
            case .respond(let reply, let message):
                guard let route = nodes[node].replyRoutes.removeValue(forKey: reply) else { continue }
                send(.response(call: route.call, shard: route.shard, message), from: node, to: route.node)
            case .schedule(let timer, let at):
                queue.schedule(.coreTimer(node: node, generation: generation, shard: shard, timer), at: max(at.milliseconds, now.milliseconds))
            case .publishCluster(let snapshot):
                for other in others { queue.schedule(.shardEvent(node: node, generation: generation, shard: other, .cluster(snapshot)), after: 0) }
            case .storage(let operation, let storage):
                // A coordinator's write is applied at once (reads see it) but is durable only a
                // little later, as a real fsync: a crash before then undoes it. Everything else
                // completes at once.
                guard case .write(let keyBytes, _, _, _) = storage, let key = SimKeys.key(keyBytes) else {
                    pending.append(contentsOf: core.onStorage(operation: operation, perform(storage, at: node), now: now, wallNow: wall))
                    continue
                }
                nodes[node].unsynced.append((key, nodes[node].store[key]))
                let result = perform(storage, at: node)
                queue.schedule(.storageDone(node: node, generation: generation, shard: shard, operation: operation, key: key, result),
                               after: diskRandom.between(1...4))
                if crashAtNextWrite {
                    crashAtNextWrite = false
                    queue.schedule(.crash(node: node, generation: generation), after: 0)
                }
            case .deleteHint(let hint):
                nodes[node].hintRecords[hint] = nil
                nodes[node].hintLog[hint] = nil
            case .persistMintLease(let lease):
                nodes[node].mintLeases[shard] = lease
                core.onMintLeasePersisted(lease)
            case .replyRead(let ticket, let result):
                guard let (client, operation) = nodes[node].clientTickets.removeValue(forKey: ticket) else { continue }
                switch result {
                case .found(let object): reply(to: client, operation: operation, .found(object))
                case .notFound: reply(to: client, operation: operation, .notFound)
                case .failed(let failure): reply(to: client, operation: operation, .failed("\(failure)"))
                }
            case .replyWrite(let ticket, let result):
                guard let (client, operation) = nodes[node].clientTickets.removeValue(forKey: ticket) else { continue }
                switch result {
                case .stored: reply(to: client, operation: operation, .stored)
                case .preconditionFailed: reply(to: client, operation: operation, .failed("precondition failed"))
                case .failed(let failure): reply(to: client, operation: operation, .failed("\(failure)"))
                }
            case .replyScan(let ticket, let result):
                guard let (client, operation) = nodes[node].clientTickets.removeValue(forKey: ticket) else { continue }
                switch result {
                case .success(let page): reply(to: client, operation: operation, .scanned(page))
                case .failure(let failure): reply(to: client, operation: operation, .failed("\(failure)"))
                }
            case .replyCAS(let ticket, let result):
                guard let (client, operation) = nodes[node].clientTickets.removeValue(forKey: ticket) else { continue }
                switch result {
                case .success(let outcome): reply(to: client, operation: operation, .cas(outcome))
                case .failure(let failure): reply(to: client, operation: operation, .failed("\(failure)"))
                }
            case .notice(let notice):
                observe(notice, at: node)
            }
        }
        if let status = core.statusIfChanged(now: now) {
            for other in others { queue.schedule(.shardEvent(node: node, generation: generation, shard: other, .status(from: shard, status)), after: 0) }
        }
        nodes[node].cores[shard] = core
    }

    func observe(_ notice: NodeNotice, at node: Int) {
        switch notice {
        case .readRepair:
            stats.readRepairs += 1
        case .hintStored:
            stats.hintsStored += 1
        case .hintsDelivered(let count):
            stats.hintsDelivered += count
        case .hintDropped:
            stats.hintsDroppedToExchange += 1
        case .exchanged(_, _, _, let repaired):
            stats.exchanges += 1
            stats.repairedByExchange += repaired
        case .storageFailed(let context, let failure):
            violations.append("node \(node): storage failed (\(context)): \(failure)")
        case .rejectedOtherCluster(let from, let name):
            violations.append("node \(node) rejected \(from) of cluster \(name)")
        case .membershipRefused(.ring, _):
            stats.ringsRefused += 1
        case .membershipRefused(.wrongSigner(let member, let signer), _) where member.status == .removed:
            stats.entriesRefused += 1
            traceCluster("node \(node) refuses \(member) signed by \(signer) (not in its ring yet)")
        case .membershipRefused(let refusal, let from):
            // Simulated nodes sign everything they write: any other refusal is a bug.
            violations.append("node \(node) refused gossip from \(from): \(refusal)")
        case .transferDone:
            stats.transfers += 1
        case .transferEnded(_, let done):
            if !done { stats.transfersFailed += 1 }
        case .reaped:
            stats.reaped += 1
        case .casStatesGathered(let partition):
            stats.casStatesHandedOver += 1
            traceCluster("node \(node) has gathered the acceptor states of partition \(partition)")
        case .ringChanged(let version, let members):
            traceCluster("node \(node) adopts ring \(version) of \(members) members\(traceRing(at: node))")
        case .partitionSettled(let partition, let reason):
            traceCluster("node \(node): partition \(partition) settled (\(reason))")
        case .memberChanged, .reachabilityChanged, .left, .clockSkew, .handoffPlanned, .handoffKeysSent,
             .pendingValveOpened, .orphanHandedOff, .orphanDropped, .acceptorsCollected:
            break
        }
    }

    /// With a traced key: the key's replicas in the ring `node` holds.
    func traceRing(at node: Int) -> String {
        guard let key = traceKey, let ring = ring(at: node) else { return "" }
        let partition = ring.partition(for: SimKeys.hash(key))
        let replicas = ring.preferenceList(for: partition, n: options.n).compactMap { id in nodes.firstIndex { $0.id == id } }
        let members = ring.members.compactMap { id in nodes.firstIndex { $0.id == id } }
        return "; members \(members); key \(key) is in partition \(partition) on nodes \(replicas)"
    }

    // MARK: the simulated disk

    func perform(_ storage: StorageCommand, at node: Int) -> StorageResult {
        switch storage {
        case .read(let keyBytes, _, let hints):
            guard let key = SimKeys.key(keyBytes) else { return .read(nil, hintObjects: []) }
            let record = nodes[node].store[key].map { ReplicaRecord(object: $0.object, mintEpoch: $0.mintEpoch) }
            return .read(record, hintObjects: hints.compactMap { nodes[node].hintRecords[$0]?.object })
        case .write(let keyBytes, _, let record, _):
            guard let key = SimKeys.key(keyBytes) else { return .failed(StorageFailure("not a simulated key")) }
            trace(key, "node \(node) stores coordinated \(Simulation.show(record.object))")
            storeReplica(key: key, object: record.object, at: node, mintEpoch: record.mintEpoch, replace: true)
            return .done
        case .merge(let keyBytes, _, let object):
            guard let key = SimKeys.key(keyBytes) else { return .failed(StorageFailure("not a simulated key")) }
            let before = nodes[node].store[key]?.object
            storeReplica(key: key, object: object, at: node)
            let after = nodes[node].store[key]?.object ?? object
            return .merged(changed: after != before, object: after)
        case .putHint(let entry):
            guard let key = SimKeys.key(entry.key) else { return .failed(StorageFailure("not a simulated key")) }
            trace(key, "node \(node) stores hint for \(entry.hint.owner.low): \(Simulation.show(entry.object))")
            nodes[node].hintLog[entry.hint.id] = entry.hint
            nodes[node].hintRecords[entry.hint.id] = SimNode.HintRecord(key: key, object: entry.object, owner: entry.hint.owner)
            return .done
        case .readTree(let partition):
            // Built from the disk when first asked for, as the node builds it when it opens
            // the partition's engine.
            guard let ring = ring(at: node), partition >= 0, partition < ring.partitionCount else { return .tree(nil) }
            if nodes[node].trees[partition] == nil {
                nodes[node].trees[partition] = nodes[node].rebuildTree(partition: partition, ring: ring)
            }
            return .tree(nodes[node].trees[partition])
        case .readBatch(let partition, let after, let maxBytes, let maxKeys):
            guard let ring = ring(at: node) else { return .batch([], bytes: 0, isLast: true) }
            let keys = nodes[node].store.keys.filter { ring.partition(for: SimKeys.hash($0)) == partition }
                .map(SimKeys.bytes).sorted { $0.lexicographicallyPrecedes($1) }
                .filter { key in after.map { $0.lexicographicallyPrecedes(key) } ?? true }
            var items: [KeyedObject] = []
            var bytes = 0
            for key in keys.prefix(maxKeys) {
                guard let record = SimKeys.key(key).flatMap({ nodes[node].store[$0] }) else { continue }
                items.append(KeyedObject(key: key, object: record.object))
                bytes += key.count + record.object.encode().count
                if bytes >= maxBytes { break }
            }
            return .batch(items, bytes: bytes, isLast: items.count == keys.count)
        case .segmentObjects(let partition, let segments, let after, let limit):
            guard let ring = ring(at: node), let tree = nodes[node].trees[partition] else { return .objects([], next: nil) }
            let wanted = Set(segments)
            let keys = nodes[node].store.keys.filter { key in
                let hash = SimKeys.hash(key)
                return ring.partition(for: hash) == partition && wanted.contains(tree.segment(of: hash))
            }.map(SimKeys.bytes).sorted { $0.lexicographicallyPrecedes($1) }
                .filter { key in after.map { $0.lexicographicallyPrecedes(key) } ?? true }
            let page = keys.prefix(limit)
            let items = page.compactMap { bytes in
                SimKeys.key(bytes).flatMap { nodes[node].store[$0] }.map { KeyedObject(key: bytes, object: $0.object) }
            }
            return .objects(items, next: keys.count > page.count ? page.last : nil)
        case .scan(let partitions, let prefix, let after, let limit, let values, let examineLimit, let wallNow):
            guard let ring = ring(at: node) else { return .scanned(ScanReply(items: [], through: nil)) }
            let listings = partitions.map { partition in
                Array(nodes[node].store.keys.filter { ring.partition(for: SimKeys.hash($0)) == partition }.map(SimKeys.bytes)
                    .filter { key in key.starts(with: prefix) && (after.map { $0.lexicographicallyPrecedes(key) } ?? true) }
                    .sorted { $0.lexicographicallyPrecedes($1) }.prefix(limit + 1))
            }
            return .scanned(ScanReply.merging(listings: listings, limit: limit, examineLimit: examineLimit, values: values,
                                              wallNow: wallNow) { _, bytes in SimKeys.key(bytes).flatMap { nodes[node].store[$0]?.object } })
        case .reapCandidates(let partition, let after, let limit, let wallNow):
            guard let ring = ring(at: node) else { return .objects([], next: nil) }
            let keys = nodes[node].store.keys.filter { ring.partition(for: SimKeys.hash($0)) == partition }.map(SimKeys.bytes)
                .filter { key in after.map { $0.lexicographicallyPrecedes(key) } ?? true }
                .sorted { $0.lexicographicallyPrecedes($1) }
            return .reapCandidates(listing: Array(keys.prefix(limit + 1)), limit: limit, wallNow: wallNow) {
                SimKeys.key($0).flatMap { nodes[node].store[$0]?.object }
            }
        case .readCopies(_, let keys, let hints):
            return .copies(zip(keys, hints).map { bytes, ids in
                var copies: [SimObject] = []
                if let record = SimKeys.key(bytes).flatMap({ nodes[node].store[$0] }) { copies.append(record.object) }
                copies += ids.compactMap { nodes[node].hintRecords[$0]?.object }
                return copies
            })
        case .reap(let keyBytes, _, let expected):
            guard let key = SimKeys.key(keyBytes), let current = nodes[node].store[key], current.object == expected else {
                return .merged(changed: false, object: expected)
            }
            trace(key, "node \(node) reaps \(Simulation.show(expected))")
            reapedHistories[key, default: []].append(ReapedObject(history: expected.join(), dots: Set(expected.siblings.map(\.dot))))
            nodes[node].store[key] = nil
            if let ring = ring(at: node) {
                let hash = SimKeys.hash(key)
                let partition = ring.partition(for: hash)
                nodes[node].trees[partition]?.update(hash, from: SimKeys.versionHash(current.object), to: nil)
            }
            return .merged(changed: true, object: expected)
        case .dropPartition(let partition, let root):
            guard let ring = ring(at: node), partition >= 0, partition < ring.partitionCount else { return .merged(changed: false, object: DVVSet()) }
            let tree = nodes[node].trees[partition] ?? nodes[node].rebuildTree(partition: partition, ring: ring)
            guard tree.root == root else { return .merged(changed: false, object: DVVSet()) }
            checkDrop(partition, at: node, ring: ring)
            for key in nodes[node].store.keys where ring.partition(for: SimKeys.hash(key)) == partition {
                trace(key, "node \(node) drops its copy of partition \(partition): \(Simulation.show(nodes[node].store[key]!.object))")
                nodes[node].store[key] = nil
                nodes[node].unsynced.removeAll { $0.key == key }
            }
            nodes[node].trees[partition] = nil
            stats.orphansDropped += 1
            return .merged(changed: true, object: DVVSet())
        case .heldPartitions:
            guard let ring = ring(at: node) else { return .partitions([]) }
            return .partitions(Array(Set(nodes[node].store.keys.map { ring.partition(for: SimKeys.hash($0)) })))
        case .readAcceptor(let keyBytes, _):
            let key = SimKeys.key(keyBytes)
            return .acceptor((key.flatMap { nodes[node].acceptors[$0] } ?? CAS.AcceptorState()).raised(toFloor: nodes[node].acceptorFloor),
                             object: key.flatMap { nodes[node].store[$0]?.object })
        case .collectAcceptors(let after, let limit, let belowCounter):
            let page = nodes[node].acceptors.map { (key: SimKeys.bytes($0.key), state: $0.value) }
                .filter { item in after.map { $0.lexicographicallyPrecedes(item.key) } ?? true }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }.prefix(limit + 1)
            let plan = StorageResult.acceptorCollection(page: Array(page), limit: limit, belowCounter: belowCounter)
            nodes[node].acceptorFloor = max(nodes[node].acceptorFloor, plan.floor)
            for bytes in plan.remove {
                guard let key = SimKeys.key(bytes) else { continue }
                trace(key, "node \(node) collects its acceptor state \(String(describing: nodes[node].acceptors[key]))")
                nodes[node].acceptors[key] = nil
            }
            stats.acceptorsCollected += plan.remove.count
            return .collected(count: plan.remove.count, next: plan.next)
        case .readAcceptorStates(let after, let limit):
            let page = nodes[node].acceptors.map { CAS.KeyedAcceptorState(key: SimKeys.bytes($0.key), state: $0.value.raised(toFloor: nodes[node].acceptorFloor)) }
                .filter { item in after.map { $0.lexicographicallyPrecedes(item.key) } ?? true }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }.prefix(limit)
            return .acceptorStates(Array(page), next: page.count == limit ? page.last?.key : nil)
        case .writePaxos(let keyBytes, let state):
            guard let key = SimKeys.key(keyBytes) else { return .failed(StorageFailure("not a simulated key")) }
            trace(key, "node \(node) persists acceptor state promised \(state.promised.counter) accepted \(state.accepted.map { "\($0)" } ?? "-") committed \(state.committed)")
            nodes[node].acceptors[key] = state
            return .done
        case .readHints(let ids):
            return .hints(ids.compactMap { id in
                guard let hint = nodes[node].hintLog[id], let record = nodes[node].hintRecords[id] else { return nil }
                return HintEntry(hint: hint, key: SimKeys.bytes(record.key), object: record.object)
            })
        }
    }

    /// Merges `object` into this node's copy of `key` (DVVSet sync), or replaces it with a
    /// coordinated object, and keeps the Merkle tree current. In the broken last-writer-wins
    /// mode an arriving object replaces the copy.
    func storeReplica(key: Int, object: SimObject, at node: Int, mintEpoch: UInt64? = nil, replace: Bool = false) {
        let old = nodes[node].store[key]
        let merged: SimObject
        if replace {
            merged = object
        } else if options.broken == .lastWriterWins, old != nil {
            merged = object
        } else {
            merged = old.map { DVVSet.sync($0.object, object) } ?? object
        }
        if let old, old.object == merged, mintEpoch == nil || old.mintEpoch == mintEpoch { return }
        trace(key, "node \(node) stores \(Simulation.show(merged)) (was \(Simulation.show(old?.object)), got \(Simulation.show(object)))")
        nodes[node].store[key] = SimNode.Record(object: merged, mintEpoch: replace ? mintEpoch : old?.mintEpoch)
        guard let ring = ring(at: node) else { return }
        let hash = SimKeys.hash(key)
        let partition = ring.partition(for: hash)
        if nodes[node].trees[partition] != nil {
            nodes[node].trees[partition]!.update(
                hash, from: old.map { SimKeys.versionHash($0.object) }, to: SimKeys.versionHash(merged))
        }
    }

    // MARK: events

    func clientRequest(_ request: ClientRequest, at node: Int, client: Int, operation: UInt64) {
        let ticket = nodes[node].newTicket()
        nodes[node].clientTickets[ticket] = (client, operation)
        let router = router(at: node)
        switch request {
        case .get(let key, let r):
            drive(node, shard: router.shard(forKey: SimKeys.bytes(key))) { core, now, wall in
                core.onClientRead(client: ticket, key: SimKeys.bytes(key), r: r, now: now, wallNow: wall)
            }
        case .put(let key, let value, let expiry, let supersedes, let w):
            drive(node, shard: router.shard(forKey: SimKeys.bytes(key))) { core, now, wall in
                core.onClientWrite(client: ticket, key: SimKeys.bytes(key), sibling: .value(value, expiry: expiry),
                                   supersedes: supersedes, w: w, now: now, wallNow: wall)
            }
        case .delete(let key, let supersedes, let w):
            drive(node, shard: router.shard(forKey: SimKeys.bytes(key))) { core, now, wall in
                core.onClientWrite(client: ticket, key: SimKeys.bytes(key), sibling: .tombstone, supersedes: supersedes, w: w,
                                   now: now, wallNow: wall)
            }
        case .scan(let prefix, let after, let limit, let values):
            drive(node) { core, now, wall in
                core.onClientScan(client: ticket, prefix: prefix, after: after, limit: limit, values: values, now: now, wallNow: wall)
            }
        case .cas(let key, let casOperation):
            let random = nodeRandom.next()
            drive(node, shard: router.shard(forKey: SimKeys.bytes(key))) { core, now, wall in
                core.onClientCAS(client: ticket, key: SimKeys.bytes(key), operation: casOperation, random: random,
                                 now: now, wallNow: wall)
            }
        }
    }

    /// A core request unanswered for its timeout: answered with nothing, once.
    func callTimedOut(_ node: Int, shard: Int, call: UInt64) {
        guard nodes[node].openCalls.remove(ShardCall(shard: shard, call: call)) != nil else { return }
        drive(node, shard: shard) { core, now, wall in core.onResponse(call: call, nil, now: now, wallNow: wall) }
    }

    func receive(_ message: SimMessage, at node: Int, from: Int) {
        switch message {
        case .request(let call, let callerShard, let wire):
            let reply = nodes[node].newTicket()
            nodes[node].replyRoutes[reply] = (from, call, callerShard)
            let peer = nodes[from].id
            drive(node, shard: router(at: node).shard(for: wire)) { core, now, wall in
                core.onPeerRequest(from: peer, reply: reply, wire, now: now, wallNow: wall)
            }
        case .response(let call, let shard, let wire):
            guard nodes[node].openCalls.remove(ShardCall(shard: shard, call: call)) != nil else { return }
            drive(node, shard: shard) { core, now, wall in core.onResponse(call: call, wire, now: now, wallNow: wall) }
        case .oneWay(let wire):
            let peer = nodes[from].id
            drive(node, shard: router(at: node).shard(for: wire)) { core, now, wall in
                core.onPeerMessage(from: peer, wire, now: now, wallNow: wall)
            }
        }
    }
}

extension Simulation {
    /// A former replica is about to drop its copy of `partition`: each current primary whose
    /// disk was never lost must hold every live value it holds (a value without a TTL: expiry
    /// depends on clocks), unless a reaper removed an object that superseded it. What the drop
    /// rule promises — every primary received the copy whole since it last changed — and what
    /// dropping early breaks.
    func checkDrop(_ partition: Int, at node: Int, ring: Ring) {
        let primaries = ring.preferenceList(for: partition, n: options.n)
        let checked = nodes.indices.filter { $0 != node && primaries.contains(nodes[$0].id) && nodes[$0].disksLost == 0 }
        for (key, record) in nodes[node].store where ring.partition(for: SimKeys.hash(key)) == partition {
            for dotted in record.object.siblings {
                guard case .value = dotted.sibling.content, dotted.sibling.expiry == nil,
                      !(reapedHistories[key] ?? []).contains(where: { $0.history.covers(dotted.dot) }) else { continue }
                for primary in checked where !(nodes[primary].store[key]?.object.join().covers(dotted.dot) ?? false) {
                    violations.append("node \(node) dropped its copy of partition \(partition) while primary \(primary) lacked \(dotted.dot) of key \(key)")
                    return
                }
            }
        }
    }
}
