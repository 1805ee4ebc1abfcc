import CairnCore

/// What peers ask of this node's data path, the answers to what it asked them, and the
/// storage work on keys (minting, merges, hints) with its per-key order.
extension NodeCore {
    /// Whether `message` is a request of the data path (`onPeerRequest` answers it).
    public static func handles(request message: WireMessage) -> Bool {
        switch message {
        case .read, .replicate, .forwardedWrite, .hintBatch, .handoffBatch, .merkleHashesRequest, .segmentObjectsRequest, .cas,
             .scanRequest, .reapCheck, .casStatesRequest: true
        default: false
        }
    }

    /// A peer's request; answered by `.respond(reply:…)` once the work is durable.
    public mutating func onPeerRequest(
        from peer: NodeID, reply: UInt64, _ message: WireMessage, now: MonotonicTime, wallNow: WallClockTime
    ) -> [NodeCommand] {
        // Only members use the data path: a process that merely connected (it knew the cluster's
        // name, or its secret but was removed) reads and writes nothing.
        guard isMember(peer) else {
            return [.respond(reply: reply, .nack(reason: "node \(peer) is not a member of this cluster"))]
        }
        let view = clusterView(now: now)
        switch message {
        case .read(let read):
            if let problem = partitionProblem(read.partition, key: read.key, view: view) {
                return [.respond(reply: reply, .readReply(.failed(reason: problem)))]
            }
            guard !view.isPending(read.partition) else {
                return [.respond(reply: reply, .readReply(.failed(reason: "partition \(read.partition) is still being handed to this node")))]
            }
            let operation = newOperation(.peerRead(reply: reply))
            return [.storage(operation: operation, .read(key: read.key, partition: read.partition, hints: hintIDs(read.key)))]
        case .replicate(let replicate):
            if let problem = partitionProblem(replicate.partition, key: replicate.key, view: view) {
                return [.respond(reply: reply, .nack(reason: problem))]
            }
            return enter(replicate.key, .store(
                key: replicate.key, partition: replicate.partition, object: replicate.object, hintFor: replicate.hintFor,
                then: .respond(reply: reply)), view: view, now: now, wallNow: wallNow)
        case .forwardedWrite(let forwarded):
            guard recentForwards.insert(ForwardKey(node: peer, id: forwarded.forwardID)) else {
                // A duplicate of a forward already coordinated: coordinating it again would
                // mint a second dot for one client write. The first copy answers.
                return [.respond(reply: reply, .nack(reason: "duplicate forward \(forwarded.forwardID)"))]
            }
            guard let ring = view.ring else {
                return [.respond(reply: reply, .writeOutcome(.failed(Quorum.Failure(
                    keyHash: keyHash(forwarded.key), reason: .localStoreFailed(message: "not serving: no ring")))))]
            }
            let request = writeRequest(
                ring: ring, key: forwarded.key, context: forwarded.context, sibling: forwarded.sibling, w: forwarded.w,
                forwardedBy: forwarded.forwardedBy)
            return startWrite(key: forwarded.key, request: request, origin: .forwarded(reply: reply), view: view, now: now, wallNow: wallNow)
        case .hintBatch(let items):
            guard !items.isEmpty else { return [.respond(reply: reply, .ack)] }
            for item in items {
                if let problem = partitionProblem(item.partition, key: item.key, view: view) {
                    return [.respond(reply: reply, .nack(reason: problem))]
                }
            }
            let group = newNumber()
            groups[group] = Group(done: .hintBatch(reply: reply), remaining: items.count)
            var commands: [NodeCommand] = []
            for item in items {
                commands += enter(item.key, .store(key: item.key, partition: item.partition, object: item.object, hintFor: nil,
                                                   then: .group(group)), view: view, now: now, wallNow: wallNow)
            }
            return commands
        case .cas(let key, let message):
            return enterAcceptor(key, AcceptorJob(message: message, replyTo: .peer(reply: reply)), view: view, now: now, wallNow: wallNow)
        case .handoffBatch(let batch):
            return receiveHandoff(batch, from: peer, reply: reply, view: view, now: now, wallNow: wallNow)
        case .merkleHashesRequest(let partition, let request):
            if let problem = partitionProblem(partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
            let operation = newOperation(.answerHashes(reply: reply, request))
            return [.storage(operation: operation, .readTree(partition: partition))]
        case .segmentObjectsRequest(let request):
            if let problem = partitionProblem(request.partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
            let operation = newOperation(.answerSegments(reply: reply))
            return [.storage(operation: operation, .segmentObjects(
                partition: request.partition, segments: request.segments, after: request.after, limit: settings.exchangePageSize))]
        case .scanRequest(let request):
            return answerScan(request, reply: reply, view: view, wallNow: wallNow)
        case .reapCheck(let check):
            return answerReapCheck(check, reply: reply, view: view)
        case .casStatesRequest(let partition, let after):
            return answerCASStatesRequest(partition: partition, after: after, from: peer, reply: reply, view: view, now: now)
        default:
            return [.respond(reply: reply, .nack(reason: "not a data-path request: \(message.messageType)"))]
        }
    }

    /// Whether `peer` is a current member (any status but a tombstone): who may use the data path.
    func isMember(_ peer: NodeID) -> Bool { cluster.members[peer].map { !$0.status.isTombstone } == true }

    /// A peer's one-way message of the data path (read repair); anything else is ignored.
    public mutating func onPeerMessage(from peer: NodeID, _ message: WireMessage, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        if case .membership(let gossip) = message {
            // Gossip is how a node joins, so it is taken from non-members; but a sender speaks only
            // for itself: the envelope must name the node the connection's handshake proved.
            guard gossip.envelope.from == peer else { return [] }
            // Once this node belongs to a cluster (it has a ring), a process that is not one of
            // its members (a node joining, or one it has not heard of yet) speaks of itself only:
            // other nodes' entries and rings are taken from members alone, so a forged tombstone
            // for a live member from a connected stranger goes nowhere. A node still joining has
            // no members to trust but its seed's, and takes what its seed sends.
            var gossip = gossip
            if cluster.ring != nil, !isMember(peer) {
                switch gossip {
                case .delta(let envelope, let members, _, let wanted, let wantsRing):
                    gossip = .delta(envelope, members: members.filter { $0.id == peer }, ring: nil, wanted: wanted, wantsRing: wantsRing)
                case .update(let envelope, let members, _):
                    gossip = .update(envelope, members: members.filter { $0.id == peer }, ring: nil)
                case .digest, .heartbeat, .heartbeatReply:
                    break
                }
            }
            return performMembership(membership?.onMessage(gossip, now: now) ?? [], now: now, wallNow: wallNow)
        }
        guard isMember(peer) else { return [] }
        let view = clusterView(now: now)
        if case .cas(let key, let commit) = message {
            return enterAcceptor(key, AcceptorJob(message: commit, replyTo: .none), view: view, now: now, wallNow: wallNow)
        }
        if case .leaveRequest(let ringVersion) = message {
            // A plan's leave waits for the ring it was planned from (the committer asks again).
            guard (cluster.ring?.version ?? 0) >= ringVersion else { return [] }
            return (try? onLeave(now: now, wallNow: wallNow)) ?? []
        }
        if case .clockProbe(let sequence, let sentAt) = message {
            return answerClockProbe(from: peer, sequence: sequence, sentAt: sentAt, wallNow: wallNow)
        }
        if case .clockReply(let sequence, let sentAt, let receivedAt) = message {
            return clockReplied(from: peer, sequence: sequence, sentAt: sentAt, receivedAt: receivedAt, now: now, wallNow: wallNow)
        }
        if case .commitRequest(let ringVersion) = message {
            // A commit comes from an owner: a member that merely joined cannot make others join.
            guard cluster.ring?.ring.members.contains(peer) == true else { return [] }
            return onCommitRequest(ringVersion: ringVersion, now: now, wallNow: wallNow)
        }
        if case .reapNow(let partition, let items) = message {
            return reapOrdered(partition: partition, items, from: peer, view: view, now: now, wallNow: wallNow)
        }
        if case .handoffRequest(let partition) = message {
            return handoffRequested(partition: partition, by: peer, view: view, now: now, wallNow: wallNow)
        }
        guard case .readRepair(let repair) = message, partitionProblem(repair.partition, key: repair.key, view: view) == nil else {
            return []
        }
        return enter(repair.key, .store(key: repair.key, partition: repair.partition, object: repair.object, hintFor: repair.hintFor,
                                        then: .none), view: view, now: now, wallNow: wallNow)
    }

    /// The answer to a `.request` (nil: it failed or timed out).
    public mutating func onResponse(call: UInt64, _ message: WireMessage?, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        let view = clusterView(now: now)
        guard let pending = calls.removeValue(forKey: call) else { return [] }
        switch pending {
        case .replicate(let request, let to):
            guard writes[request]?.outstanding.remove(to) != nil else { return [] }
            if case .ack? = message {
                return feedWrite(request, view: view, now: now, wallNow: wallNow) { $0.onAck(from: to, now: now) }
            }
            return feedWrite(request, view: view, now: now, wallNow: wallNow) { $0.onNack(from: to, now: now) }
        case .forward(let request, let to):
            guard case .writeOutcome(let outcome)? = message else { return [] }  // the request's own timer decides
            return feedWrite(request, view: view, now: now, wallNow: wallNow) { $0.onForwardedOutcome(outcome, from: to, now: now) }
        case .read(let request, let from):
            switch message {
            case .readReply(.found(let object))?:
                return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onReply(from: from, object: object, now: now) }
            case .readReply(.notFound)?:
                return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onReply(from: from, object: nil, now: now) }
            default:
                return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onReadFailed(from: from, now: now) }
            }
        case .hints(let delivery):
            let ok: Bool
            if case .ack? = message { ok = true } else { ok = false }
            return deliveryPartDone(delivery, ok: ok, view: view, wallNow: wallNow)
        case .exchangeHashes(let session):
            return exchangeHashes(session: session, message)
        case .exchangePage(let session):
            return exchangePage(session: session, message, view: view, now: now, wallNow: wallNow)
        case .handoffBatch(let transfer, let run):
            return handoffBatchAnswered(transfer, run: run, message, now: now, wallNow: wallNow)
        case .cas(let proposer, let from):
            switch message {
            case .cas(_, let reply)?:
                return feedProposer(proposer, view: view, now: now, wallNow: wallNow) { $0.onMessage(reply, from: from, now: now) }
            case .nack?:
                // The acceptor refused (not ready for the partition): a rejection, not a silence.
                return feedProposer(proposer, view: view, now: now, wallNow: wallNow) { $0.onRefused(from: from, now: now) }
            default:
                return []  // lost or timed out: the proposer's timers decide
            }
        case .casStates(let partition, let from, let after):
            return casStatesAnswered(partition: partition, from: from, after: after, message, view: view, now: now, wallNow: wallNow)
        case .reapCheck:
            return reapCheckAnswered(call: call, message, view: view, now: now, wallNow: wallNow)
        case .scan(let scan, _):
            guard case .scanReply(let reply)? = message else {
                return scanPartAnswered(scan, part: call, nil, view: view, wallNow: wallNow)
            }
            return scanPartAnswered(scan, part: call, reply, view: view, wallNow: wallNow)
        }
    }

    /// A partition number from a peer must exist in this node's ring (the cluster's Q).
    /// A key from a peer must belong to the partition it is named with: stored under another,
    /// it would be found by no read (reads place keys by their own hash).
    func partitionProblem(_ partition: Int, key: [UInt8], view: ClusterView) -> String? {
        if let problem = partitionProblem(partition, view: view) { return problem }
        guard let ring = view.ring, ring.partition(for: keyHash(key)) == partition else {
            return "a key named with partition \(partition) belongs to another partition"
        }
        return nil
    }

    func partitionProblem(_ partition: Int, view: ClusterView) -> String? {
        guard let ring = view.ring else { return "partition \(partition): this node has no ring yet" }
        guard partition >= 0, partition < ring.partitionCount else {
            return "partition \(partition) is not in this node's ring (Q = \(ring.partitionCount))"
        }
        // The executor routes by partition (`ShardRouter`); anything else would run storage
        // work on a key outside this instance's key gate.
        guard shard.owns(partition) else { return "partition \(partition) belongs to another \(shard)" }
        return nil
    }

    // MARK: key jobs

    mutating func enter(_ key: [UInt8], _ job: KeyJob, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let job = gate.enter(key, job) else { return [] }
        return run(job, key: key, view: view, now: now, wallNow: wallNow)
    }

    /// The running job of `key` is done: start the next one queued behind it.
    mutating func leave(_ key: [UInt8], view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let next = gate.leave(key) else { return [] }
        return run(next, key: key, view: view, now: now, wallNow: wallNow)
    }

    mutating func run(_ job: KeyJob, key: [UInt8], view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        switch job {
        case .coordinate(let request):
            // The client may have been answered (timeout) while this waited for the key: then
            // nothing is stored, rather than a write only this node would ever hold.
            guard let state = writes[request], let coordination = state.coordination, !state.machine.isDecided else {
                writes[request]?.coordination = nil
                if writes[request]?.isSettled == true { writes[request] = nil }
                return leave(key, view: view, now: now, wallNow: wallNow)
            }
            let hints = coordination.hintFor == nil ? [] : hintIDs(key)
            let operation = newOperation(.coordinationRead(request: request, key: key))
            return [.storage(operation: operation, .read(key: key, partition: state.partition, hints: hints))]
        case .store(_, let partition, let object, let hintFor, let then):
            if let hintFor {
                var commands: [NodeCommand] = []
                guard let hint = storeHint(key: key, partition: partition, object: object, owner: hintFor, view: view,
                                           wallNow: wallNow, commands: &commands) else {
                    commands += finish(then, .failure(StorageFailure("no ring to place the hint")), now: now, wallNow: wallNow)
                    return commands + leave(key, view: view, now: now, wallNow: wallNow)
                }
                let operation = newOperation(.putHint(key: key, hint: hint.id, then: then))
                return [.storage(operation: operation, .putHint(HintEntry(hint: hint, key: key, object: object)))] + commands
            }
            let operation = newOperation(.merge(key: key, partition: partition, then: then))
            return [.storage(operation: operation, .merge(key: key, partition: partition, object: object))]
        case .reap(let partition, let object):
            let operation = newOperation(.reaped(key: key, partition: partition))
            return [.storage(operation: operation, .reap(key: key, partition: partition, expected: object))]
        }
    }

    /// Whether a merge that changed the replica is passed on during a ring change: writes that
    /// reach this node on the write path (replication, delivered hints) are; objects that are
    /// themselves copies passed around (read repair, anti-entropy, handoff) are not, or two old
    /// replicas could pass one object back and forth.
    func forwards(_ followUp: FollowUp) -> Bool {
        switch followUp {
        case .respond: true
        case .group(let number):
            if case .handoffBatch? = groups[number]?.done { false } else { groups[number] != nil }
        case .none, .exchange, .casCommit: false
        }
    }

    /// Resolves what waited on a stored object.
    mutating func finish(_ followUp: FollowUp, _ result: Result<Bool, StorageFailure>, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        switch followUp {
        case .none:
            if case .failure(let failure) = result { return [.notice(.storageFailed(context: "storing a replica or hint", failure))] }
            return []
        case .respond(let reply):
            switch result {
            case .success: return [.respond(reply: reply, .ack)]
            case .failure(let failure): return [.respond(reply: reply, .nack(reason: failure.message))]
            }
        case .group(let number):
            guard var group = groups[number] else { return [] }
            group.remaining -= 1
            if case .failure(let failure) = result, group.failure == nil { group.failure = failure.message }
            guard group.remaining == 0 else {
                groups[number] = group
                return []
            }
            groups[number] = nil
            switch group.done {
            case .delivery(let delivery):
                return deliveryPartDone(delivery, ok: group.failure == nil, view: clusterView(now: now), wallNow: wallNow)
            case .hintBatch(let reply):
                return [.respond(reply: reply, group.failure.map { .nack(reason: $0) } ?? .ack)]
            case .casStates(let partition, let source, let next):
                return casStatesPageMerged(partition: partition, from: source, next: next, failure: group.failure, now: now)
            case .handoffBatch(let reply, let partition, let source, let isLast):
                if let failure = group.failure { return [.respond(reply: reply, .nack(reason: failure))] }
                return handoffReceived(partition: partition, from: source, isLast: isLast, now: now) + [.respond(reply: reply, .ack)]
            }
        case .casCommit(let key, let job, let state, let reply):
            let view = clusterView(now: now)
            return casCommitApplied(key: key, job: job, state: state, reply: reply, result, view: view, now: now, wallNow: wallNow)
        case .exchange(let session):
            if case .success(true) = result, exchange?.session == session { exchange?.repaired += 1 }
            if case .failure(let failure) = result { return [.notice(.storageFailed(context: "merging an exchanged object", failure))] }
            return []
        }
    }

    // MARK: storage completions

    /// A `.storage` operation completed (durably, for writes).
    public mutating func onStorage(operation number: UInt64, _ result: StorageResult, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        let view = clusterView(now: now)
        guard let operation = operations.removeValue(forKey: number) else { return [] }
        switch operation {
        case .coordinationRead(let request, let key):
            return coordinate(request: request, key: key, read: result, view: view, now: now, wallNow: wallNow)
        case .coordinationWrite(let request, let key, let object):
            var commands: [NodeCommand] = []
            if case .failed(let failure) = result {
                commands.append(.notice(.storageFailed(context: "storing a coordinated write", failure)))
                commands += coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onLocalStoreFailed(message: failure.message, now: now) }
            } else {
                let partition = writes[request]?.partition
                if let partition { commands += forwardDuringRingChange(key: key, partition: partition, object: object, view: view) }
                commands += coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onCoordinated(object: object, now: now) }
            }
            return commands + leave(key, view: view, now: now, wallNow: wallNow)
        case .coordinationHint(let request, let key, let object, let epoch, let hint):
            var commands: [NodeCommand] = []
            if case .failed(let failure) = result {
                forgetHint(hint, key: key)
                commands.append(.notice(.storageFailed(context: "storing a coordinated hint", failure)))
                commands += coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onLocalStoreFailed(message: failure.message, now: now) }
            } else {
                // Record the epoch only while the hint that carries its dots is still here (it
                // may have been delivered, or dropped for the byte bound, during the store).
                if hintKeys[key]?.contains(hint) == true { hintMintEpoch[key] = epoch }
                commands.append(.notice(.hintStored))
                commands += coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onCoordinated(object: object, now: now) }
            }
            return commands + leave(key, view: view, now: now, wallNow: wallNow)
        case .localRead(let request):
            guard let from = reads[request].map({ _ in id }) else { return [] }
            if case .read(let record, let hints) = result {
                let object = Self.merged(record?.object, hints)
                return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onReply(from: from, object: object, now: now) }
            }
            return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onReadFailed(from: from, now: now) }
        case .peerRead(let reply):
            switch result {
            case .read(let record, let hints):
                let object = Self.merged(record?.object, hints)
                return [.respond(reply: reply, .readReply(object.map { .found($0) } ?? .notFound))]
            case .failed(let failure):
                return [.respond(reply: reply, .readReply(.failed(reason: failure.message)))]
            default:
                return [.respond(reply: reply, .readReply(.failed(reason: "unexpected storage result")))]
            }
        case .merge(let key, let partition, let then):
            var commands: [NodeCommand] = []
            switch result {
            case .merged(let changed, let object):
                if changed, forwards(then) { commands += forwardDuringRingChange(key: key, partition: partition, object: object, view: view) }
                commands += finish(then, .success(changed), now: now, wallNow: wallNow)
            case .failed(let failure):
                commands += finish(then, .failure(failure), now: now, wallNow: wallNow)
            default:
                commands += finish(then, .failure(StorageFailure("unexpected storage result for a merge")), now: now, wallNow: wallNow)
            }
            return commands + leave(key, view: view, now: now, wallNow: wallNow)
        case .putHint(let key, let hint, let then):
            var commands: [NodeCommand] = []
            if case .failed(let failure) = result {
                forgetHint(hint, key: key)
                commands += finish(then, .failure(failure), now: now, wallNow: wallNow)
            } else {
                commands.append(.notice(.hintStored))
                commands += finish(then, .success(true), now: now, wallNow: wallNow)
            }
            return commands + leave(key, view: view, now: now, wallNow: wallNow)
        case .hintsForDelivery(let owner):
            return deliver(to: owner, read: result, view: view, now: now, wallNow: wallNow)
        case .exchangeTree(let session):
            return exchangeTreeRead(session: session, result)
        case .exchangePush(let session):
            return exchangePush(session: session, result)
        case .answerHashes(let reply, let request):
            return answerHashes(reply: reply, request: request, result)
        case .acceptorRead(let key, let partition, let job):
            return acceptorRead(key: key, partition: partition, job: job, result, view: view, now: now, wallNow: wallNow)
        case .acceptorWrite(let key, let job, let reply):
            return acceptorWritten(key: key, job: job, reply: reply, result, view: view, now: now, wallNow: wallNow)
        case .orphanScan:
            guard case .partitions(let held) = result, let ring = view.ring else { return [] }
            var commands: [NodeCommand] = []
            for partition in held.sorted() where shard.owns(partition) && partition < ring.partitionCount
                && !ring.preferenceList(for: partition, n: settings.replicas).contains(id) && pendingIn[partition] == nil
                && !transfers.values.contains(where: { $0.transfer.partition == partition && $0.state.isActive }) {
                commands.append(.storage(operation: newOperation(.orphanTree(partition: partition)), .readTree(partition: partition)))
            }
            return commands
        case .orphanTree(let partition):
            guard case .tree(let tree?) = result else { return [] }
            return orphanExamined(partition, root: tree.root, view: view, now: now, wallNow: wallNow)
        case .acceptorsCollected:
            return acceptorsCollected(result)
        case .orphanDropped(let partition):
            orphanRoots[partition] = nil
            switch result {
            case .merged(true, _): return [.notice(.orphanDropped(partition: partition))]
            case .failed(let failure): return [.notice(.storageFailed(context: "dropping a former replica's copy", failure))]
            default: return []
            }
        case .handoffRead(let transfer, let run):
            return handoffBatchRead(transfer, run: run, result, now: now, wallNow: wallNow)
        case .brokenLocalRead(let client):
            guard case .acceptor(_, let object) = result else { return [.replyCAS(client: client, .success(.unavailable))] }
            let live = object?.values(at: wallNow) ?? []
            return [.replyCAS(client: client, .success(live.count > 1 ? .siblings(live) : .read(current: live.first)))]
        case .reapScan(let partition, let after):
            return reapScanned(partition: partition, after: after, result, view: view, now: now, wallNow: wallNow)
        case .answerReapCheck(let reply, let check):
            return reapCheckRead(reply: reply, check, result, wallNow: wallNow)
        case .reaped(let key, let partition):
            var commands: [NodeCommand] = []
            switch result {
            case .merged(true, _): commands.append(.notice(.reaped(partition: partition)))
            case .failed(let failure): commands.append(.notice(.storageFailed(context: "reaping a dead key", failure)))
            default: break
            }
            return commands + leave(key, view: view, now: now, wallNow: wallNow)
        case .scanPart(let scan):
            guard case .scanned(let part) = result else {
                return scanPartAnswered(scan, part: number, nil, view: view, wallNow: wallNow)
            }
            return scanPartAnswered(scan, part: number, part, view: view, wallNow: wallNow)
        case .answerScan(let reply, let declined):
            guard case .scanned(var answer) = result else {
                let reason = if case .failed(let failure) = result { failure.message } else { "unexpected storage result" }
                return [.respond(reply: reply, .nack(reason: reason))]
            }
            answer.unavailable = declined
            return [.respond(reply: reply, .scanReply(answer))]
        case .answerCASStates(let reply, let partition, let replicated, let peer):
            return answerCASStates(reply: reply, partition: partition, replicated: replicated, peer: peer, result, now: now, wallNow: wallNow)
        case .answerSegments(let reply):
            switch result {
            case .objects(let items, let next): return [.respond(reply: reply, .segmentObjects(SegmentObjects(items: items, next: next)))]
            case .failed(let failure): return [.respond(reply: reply, .nack(reason: failure.message))]
            default: return [.respond(reply: reply, .nack(reason: "unexpected storage result"))]
            }
        }
    }

    /// Feeds the coordination's outcome to the write machine and ends the coordination.
    mutating func coordinationDone(
        _ request: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime,
        _ event: (inout Quorum.WriteCoordinator<[UInt8]>) -> [Quorum.WriteCoordinator<[UInt8]>.Effect]
    ) -> [NodeCommand] {
        writes[request]?.coordination = nil
        let commands = feedWrite(request, view: view, now: now, wallNow: wallNow, event)
        if writes[request]?.isSettled == true { writes[request] = nil }
        return commands
    }

    /// The coordinating replica mints the dot (Dotted Version Vectors, §5): its own object,
    /// updated with the client's context under this node's mint epoch for the key, and stores
    /// it durably. As a primary it sends the object to the other replicas at once, in parallel
    /// with its own store; standing in for a primary (a hint), it replicates once the hint is
    /// stored.
    mutating func coordinate(request: UInt64, key: [UInt8], read: StorageResult, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard let state = writes[request], let coordination = state.coordination else {
            return leave(key, view: view, now: now, wallNow: wallNow)
        }
        guard case .read(let record, let hintObjects) = read else {
            let message = if case .failed(let failure) = read { failure.message } else { "unexpected storage result" }
            return coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onLocalStoreFailed(message: message, now: now) }
                + leave(key, view: view, now: now, wallNow: wallNow)
        }
        var commands: [NodeCommand] = []
        var object: DVVSet<[UInt8]>
        var epoch: UInt64?
        if coordination.hintFor == nil {
            object = record?.object ?? DVVSet()
            epoch = mint.usable(record?.mintEpoch)
        } else {
            object = Self.merged(record?.object, hintObjects) ?? DVVSet()
            epoch = mint.usable(hintMintEpoch[key])
        }
        if epoch == nil {
            let (actor, lease) = mint.allocate()
            if let lease { commands.append(.persistMintLease(lease)) }
            epoch = actor.epoch
        }
        if let fixed = settings.brokenFixedMintEpoch { epoch = fixed }
        if object.isCASManaged {
            return commands + coordinationDone(request, view: view, now: now, wallNow: wallNow) {
                $0.onCoordinationFailed(DVVSet<[UInt8]>.casManagedError, now: now)
            } + leave(key, view: view, now: now, wallNow: wallNow)
        }
        do {
            do {
                try object.update(with: coordination.context, coordination.sibling, by: ReplicaActor(node: id, epoch: epoch!),
                                  siblingLimit: settings.siblingLimit, maxObjectBytes: settings.maxObjectBytes)
            } catch where error.code == .counterExhausted && settings.brokenFixedMintEpoch == nil {
                // This writer has minted its last counter for the key (2^62 writes, or a context
                // that claimed so): it goes on as a new writer, under a fresh epoch, instead of
                // failing every later write of the key.
                let (actor, lease) = mint.allocate()
                if let lease { commands.append(.persistMintLease(lease)) }
                epoch = actor.epoch
                try object.update(with: coordination.context, coordination.sibling, by: ReplicaActor(node: id, epoch: epoch!),
                                  siblingLimit: settings.siblingLimit, maxObjectBytes: settings.maxObjectBytes)
            }
        } catch {
            return commands + coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onCoordinationFailed(error, now: now) }
                + leave(key, view: view, now: now, wallNow: wallNow)
        }
        if let owner = coordination.hintFor {
            guard let hint = storeHint(key: key, partition: state.partition, object: object, owner: owner, view: view,
                                       wallNow: wallNow, commands: &commands) else {
                return commands + coordinationDone(request, view: view, now: now, wallNow: wallNow) { $0.onLocalStoreFailed(message: "no ring", now: now) }
                    + leave(key, view: view, now: now, wallNow: wallNow)
            }
            let operation = newOperation(.coordinationHint(request: request, key: key, object: object, epoch: epoch!, hint: hint.id))
            return commands + [.storage(operation: operation, .putHint(HintEntry(hint: hint, key: key, object: object)))]
        }
        let operation = newOperation(.coordinationWrite(request: request, key: key, object: object))
        commands.append(.storage(operation: operation, .write(
            key: key, partition: state.partition, record: ReplicaRecord(object: object, mintEpoch: epoch), previous: record)))
        // The other replicas store it while this one waits for its fsync (the local ack follows
        // with the storage completion). Safe for the dot: `MintEpochs.trustedFrom`.
        commands += feedWrite(request, view: view, now: now, wallNow: wallNow) { $0.onMinted(object: object, now: now) }
        return commands
    }
}
