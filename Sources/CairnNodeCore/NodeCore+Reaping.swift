import CairnCore

/// Reaping: removing dead keys physically, so deleted and expired data does not keep disk and
/// keydir memory forever (docs/versioning.md, "Reaping").
///
/// A key is dead when every sibling of its object is a tombstone or expired; the reaper on
/// each primary walks its partitions a page at a time (one page per maintenance tick). It
/// notes when it first saw each dead key (its own monotonic clock: no other node's wall clock
/// decides how long the grace lasts) and proposes the keys it has seen dead for longer than
/// the grace period. It removes such a key only when **every member** of the cluster is
/// reachable and answers that none of its copies of the key — its record (as a replica, or
/// left over from an earlier ring: an orphan), the hints it holds for it, and a write of the
/// key it is coordinating — is older than or concurrent with the dead object (`reapCheck`),
/// and only if the object is still the one it proposed when the removal runs (a write that
/// arrived in between wins). Then it tells every member to remove its copy too, if that copy
/// is still exactly the confirmed object (`reapNow`): all copies go in one round, so
/// anti-entropy does not carry the dead object from a primary that has not reaped yet back to
/// one that has, over and over. A member that holds no copy confirms, so the last holder can
/// reap too.
///
/// Why nothing comes back: every copy that could carry an older version back (a primary that
/// missed the delete, a hint not yet delivered, a former replica's leftover copy, a write in
/// flight from its coordinator) belongs to a member, and that member refuses while it holds
/// it. What is left is a copy in flight in the network: the grace period (longer than any
/// request's timeout, counted from when the reaper itself first saw the key dead, which is
/// after the delete was acknowledged) covers it. A member that is down refuses by not
/// answering.
extension NodeCore {
    /// When the reaper first saw a key dead with the object whose history this is.
    struct DeadSighting: Sendable {
        var since: MonotonicTime
        var history: CausalContext
    }

    /// One page of dead keys being confirmed with the other members.
    struct ReapRound: Sendable {
        var partition: Int
        var candidates: [KeyedObject]
        /// Other members asked, by call, that have not answered.
        var waiting: Set<UInt64>
        /// For each candidate, how many other members confirmed it.
        var confirmations: [Int]
        /// The members asked.
        var asked: [NodeID]
    }

    /// The maintenance tick's part: scan the next page of the next partition this node is a
    /// primary of, unless a page is still being confirmed.
    mutating func reapTick(view: ClusterView, wallNow: WallClockTime) -> [NodeCommand] {
        guard settings.reapGraceMilliseconds > 0, reapRound == nil, !reapScanning, let ring = view.ring else { return [] }
        for step in 0..<ring.partitionCount {
            let partition = (reapPartition + step) % ring.partitionCount
            guard shard.owns(partition), ring.preferenceList(for: partition, n: settings.replicas).contains(id), !view.isPending(partition)
            else { continue }
            if partition != reapPartition {
                reapPartition = partition
                reapAfter = nil
            }
            reapScanning = true
            return [.storage(operation: newOperation(.reapScan(partition: partition, after: reapAfter)), .reapCandidates(
                partition: partition, after: reapAfter, limit: settings.reapBatchKeys,
                wallNow: wallNow))]
        }
        return []
    }

    /// A page of the partition was scanned: note the dead keys first seen now, forget those
    /// of the page that live again, and ask every other member about the keys dead for longer
    /// than the grace period.
    mutating func reapScanned(partition: Int, after: [UInt8]?, _ result: StorageResult, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        reapScanning = false
        guard case .objects(let dead, let next) = result else { return [] }
        if next == nil {
            reapPartition = partition + 1
            reapAfter = nil
        } else {
            reapAfter = next
        }
        // This node's own other copies count as a member's would: a hint it holds for the key
        // (which may be older), or a write of the key it coordinates, holds the key back.
        let writing = keysBeingWritten
        let candidates = noteDead(dead, partition: partition, after: after, through: next, now: now)
            .filter { hintIDs($0.key).isEmpty && !writing.contains($0.key) }
        guard !candidates.isEmpty else { return [] }
        let others = cluster.members.values.filter { !$0.status.isTombstone && $0.id != id }.map(\.id).sorted()
        guard others.allSatisfy(view.isReachable) else { return [] }  // a member down: not now
        if settings.brokenReapWithoutConfirmation || others.isEmpty {
            // (Broken: the round as if every member had confirmed.)
            return others.map { NodeCommand.send(to: $0, .reapNow(partition: partition, candidates)) }
                + reap(candidates, partition: partition, view: view, now: now, wallNow: wallNow)
        }
        var round = ReapRound(partition: partition, candidates: candidates, waiting: [],
                              confirmations: Array(repeating: 0, count: candidates.count), asked: others)
        var commands: [NodeCommand] = []
        let check = ReapCheck(partition: partition, items: candidates.map { ReapItem(key: $0.key, history: $0.object.join()) })
        for other in others {
            let call = newCall(.reapCheck(from: other))
            round.waiting.insert(call)
            commands.append(.request(call: call, to: other, .reapCheck(check), timeoutMilliseconds: settings.requestTimeoutMilliseconds))
        }
        reapRound = round
        return commands
    }

    /// Keeps `reapDeadSince` true to one scanned page of `partition` (the keys after `after`
    /// through `through`, or to its end): a dead object not yet noted is noted as dead since
    /// `now` (while fewer than `reapTrackedKeysLimit` keys are), a noted key the page no
    /// longer shows dead, or shows dead with another object (written since), is forgotten or
    /// noted anew. Returns the page's keys whose object has been dead for the grace period.
    mutating func noteDead(_ dead: [KeyedObject], partition: Int, after: [UInt8]?, through: [UInt8]?, now: MonotonicTime) -> [KeyedObject] {
        var noted = reapDeadSince[partition] ?? [:]
        let notedElsewhere = reapDeadSince.reduce(0) { $0 + $1.value.count } - noted.count
        var histories: [[UInt8]: CausalContext] = [:]
        for item in dead { histories[item.key] = item.object.join() }
        for (key, sighting) in noted where histories[key] != sighting.history {
            let inPage = (after.map { $0.lexicographicallyPrecedes(key) } ?? true)
                && (through.map { !$0.lexicographicallyPrecedes(key) } ?? true)
            if inPage { noted[key] = nil }
        }
        var candidates: [KeyedObject] = []
        for item in dead {
            if let sighting = noted[item.key] {
                if now >= sighting.since + settings.reapGraceMilliseconds { candidates.append(item) }
            } else if notedElsewhere + noted.count < settings.reapTrackedKeysLimit {
                noted[item.key] = DeadSighting(since: now, history: histories[item.key]!)
            }
        }
        reapDeadSince[partition] = noted.isEmpty ? nil : noted
        return candidates
    }

    /// Another member answered (nil: it failed, which confirms nothing).
    mutating func reapCheckAnswered(call: UInt64, _ message: WireMessage?, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard var round = reapRound, round.waiting.remove(call) != nil else { return [] }
        if case .reapCheckReply(let flags)? = message, flags.count == round.candidates.count {
            for (index, confirmed) in flags.enumerated() where confirmed { round.confirmations[index] += 1 }
        }
        guard round.waiting.isEmpty else {
            reapRound = round
            return []
        }
        reapRound = nil
        let confirmed = round.candidates.indices.filter { round.confirmations[$0] == round.asked.count }.map { round.candidates[$0] }
        guard !confirmed.isEmpty else { return [] }
        let order = WireMessage.reapNow(partition: round.partition, confirmed)
        return round.asked.map { NodeCommand.send(to: $0, order) }
            + reap(confirmed, partition: round.partition, view: view, now: now, wallNow: wallNow)
    }

    /// Removes each key whose object is still the dead one confirmed, through the key's order.
    mutating func reap(_ items: [KeyedObject], partition: Int, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for item in items {
            reapForget(item.key, partition: partition)
            commands += enter(item.key, .reap(partition: partition, object: item.object), view: view, now: now, wallNow: wallNow)
        }
        return commands
    }

    /// A member's `reapNow`: every member confirmed these dead objects, so this node's copy of
    /// each goes too if it is still exactly the confirmed object.
    mutating func reapOrdered(partition: Int, _ items: [KeyedObject], from peer: NodeID, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard cluster.members[peer].map({ !$0.status.isTombstone }) == true, partitionProblem(partition, view: view) == nil,
              items.allSatisfy({ partitionProblem(partition, key: $0.key, view: view) == nil })
        else { return [] }
        return reap(items, partition: partition, view: view, now: now, wallNow: wallNow)
    }

    /// The keys whose writes this node coordinates now: their objects may still hold, in
    /// memory only, a value older than a dead one until their replicas or hints have it.
    var keysBeingWritten: Set<[UInt8]> { Set(writes.values.map(\.key)) }

    /// Forgets the note of when `key` was first seen dead.
    mutating func reapForget(_ key: [UInt8], partition: Int) {
        guard reapDeadSince[partition]?.removeValue(forKey: key) != nil else { return }
        if reapDeadSince[partition]?.isEmpty == true { reapDeadSince[partition] = nil }
    }

    /// A peer asks whether any copy of each dead key here is older than (or concurrent with)
    /// its dead object.
    mutating func answerReapCheck(_ check: ReapCheck, reply: UInt64, view: ClusterView) -> [NodeCommand] {
        if let problem = partitionProblem(check.partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
        let operation = newOperation(.answerReapCheck(reply: reply, check))
        return [.storage(operation: operation, .readCopies(
            partition: check.partition, keys: check.items.map(\.key), hints: check.items.map { hintIDs($0.key) }))]
    }

    /// Confirms a key when every copy here has seen all the dead object has and is dead on
    /// this node's own clock too (so one node whose clock runs ahead cannot reap a value
    /// whose TTL has not passed elsewhere), or there is no copy; and this node is not
    /// coordinating a write of it (whose object may hold a value older than the dead one until
    /// its replicas or hints have it).
    mutating func reapCheckRead(reply: UInt64, _ check: ReapCheck, _ result: StorageResult, wallNow: WallClockTime) -> [NodeCommand] {
        guard case .copies(let copies) = result, copies.count == check.items.count else {
            return [.respond(reply: reply, .nack(reason: "the copies could not be read"))]
        }
        let writing = keysBeingWritten
        let flags = zip(check.items, copies).map { item, copies in
            !writing.contains(item.key) && copies.allSatisfy { $0.join().descends(item.history) && $0.isDead(at: wallNow) }
        }
        return [.respond(reply: reply, .reapCheckReply(flags))]
    }
}

extension StorageResult {
    /// How an executor answers `StorageCommand.reapCandidates`, given `listing`: the
    /// partition's first `limit + 1` keys after the cursor (or all, if fewer) in byte order,
    /// and `object`, which reads a key's stored object. The first `limit` are examined; `next`
    /// is the last of them when more follow.
    public static func reapCandidates(
        listing: [[UInt8]], limit: Int, wallNow: WallClockTime, object: ([UInt8]) throws -> DVVSet<[UInt8]>?
    ) rethrows -> StorageResult {
        let page = listing.prefix(limit)
        var found: [KeyedObject] = []
        for key in page {
            guard let stored = try object(key), stored.isDead(at: wallNow) else { continue }
            found.append(KeyedObject(key: key, object: stored))
        }
        return .objects(found, next: listing.count > limit ? page.last : nil)
    }
}
