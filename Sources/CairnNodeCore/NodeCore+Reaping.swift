import CairnCore

/// Reaping: removing dead keys physically, so deleted and expired data does not keep disk and
/// keydir memory forever (docs/versioning.md, "Reaping").
///
/// A key is dead when every sibling of its object is a tombstone or expired; the reaper on
/// each primary walks its partitions a page at a time (one page per maintenance tick) and
/// proposes the keys dead for longer than the grace period. It removes its own copy of such a
/// key only when **every member** of the cluster is reachable and answers that none of its
/// copies of the key — its record (as a replica, or left over from an earlier ring: an
/// orphan), and the hints it holds for it — is older than or concurrent with the dead object
/// (`reapCheck`), and only if the object is still the one it proposed when the removal runs
/// (a write that arrived in between wins). Every primary reaps its own copy the same way, so
/// all of them do, eventually; a member that holds no copy confirms, so the last holder can
/// reap too.
///
/// Why nothing comes back: every copy that could carry an older version back (a primary that
/// missed the delete, a hint not yet delivered, a former replica's leftover copy) belongs to a
/// member, and that member refuses while it holds it. What is left is a copy in flight in the
/// network: the grace period (longer than any request's timeout) covers it. A member that is
/// down refuses by not answering.
extension NodeCore {
    /// One page of dead keys being confirmed with the other primaries.
    struct ReapRound: Sendable {
        var partition: Int
        var candidates: [KeyedObject]
        /// Other primaries asked, by call, that have not answered.
        var waiting: Set<UInt64>
        /// For each candidate, how many other primaries confirmed it.
        var confirmations: [Int]
        var asked: Int
    }

    /// The maintenance tick's part: scan the next page of the next partition this node is a
    /// primary of, unless a page is still being confirmed.
    mutating func reapTick(view: ClusterView, wallNow: UInt64) -> [NodeCommand] {
        guard settings.reapGraceMilliseconds > 0, reapRound == nil, !reapScanning, let ring = view.ring else { return [] }
        for step in 0..<ring.partitionCount {
            let partition = (reapPartition + step) % ring.partitionCount
            guard ring.preferenceList(for: partition, n: settings.replicas).contains(id), !view.isPending(partition) else { continue }
            if partition != reapPartition {
                reapPartition = partition
                reapAfter = nil
            }
            reapScanning = true
            return [.storage(operation: newOperation(.reapScan(partition: partition)), .reapCandidates(
                partition: partition, after: reapAfter, limit: settings.reapBatchKeys,
                wallNow: WallClockTime(millisecondsSince1970: wallNow), graceMilliseconds: settings.reapGraceMilliseconds))]
        }
        return []
    }

    /// A page of the partition was scanned: ask the other primaries about its dead keys.
    mutating func reapScanned(partition: Int, _ result: StorageResult, view: ClusterView, now: UInt64, wallNow: UInt64)
        -> [NodeCommand]
    {
        reapScanning = false
        guard case .objects(let candidates, let next) = result else { return [] }
        if next == nil {
            reapPartition = partition + 1
            reapAfter = nil
        } else {
            reapAfter = next
        }
        guard !candidates.isEmpty else { return [] }
        let others = membership.members.filter { !$0.status.isTombstone && $0.id != id }.map(\.id)
        guard others.allSatisfy(view.isReachable) else { return [] }  // a member down: not now
        if settings.brokenReapWithoutConfirmation || others.isEmpty {
            return reap(candidates, partition: partition, view: view, now: now, wallNow: wallNow)
        }
        var round = ReapRound(partition: partition, candidates: candidates, waiting: [], confirmations: Array(repeating: 0, count: candidates.count),
                              asked: others.count)
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

    /// Another primary answered (nil: it failed, which confirms nothing).
    mutating func reapCheckAnswered(call: UInt64, _ message: WireMessage?, view: ClusterView, now: UInt64, wallNow: UInt64)
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
        let confirmed = round.candidates.indices.filter { round.confirmations[$0] == round.asked }.map { round.candidates[$0] }
        return reap(confirmed, partition: round.partition, view: view, now: now, wallNow: wallNow)
    }

    /// Removes each key whose object is still the dead one confirmed, through the key's order.
    mutating func reap(_ items: [KeyedObject], partition: Int, view: ClusterView, now: UInt64, wallNow: UInt64) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for item in items {
            commands += enter(item.key, .reap(partition: partition, object: item.object), view: view, now: now, wallNow: wallNow)
        }
        return commands
    }

    /// A peer asks whether any copy of each dead key here is older than (or concurrent with)
    /// its dead object.
    mutating func answerReapCheck(_ check: ReapCheck, reply: UInt64, view: ClusterView) -> [NodeCommand] {
        if let problem = partitionProblem(check.partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
        let operation = newOperation(.answerReapCheck(reply: reply, check))
        return [.storage(operation: operation, .readCopies(
            partition: check.partition, keys: check.items.map(\.key), hints: check.items.map { hintIDs($0.key) }))]
    }

    /// Confirms a key when every copy here has seen all the dead object has (or there is none).
    mutating func reapCheckRead(reply: UInt64, _ check: ReapCheck, _ result: StorageResult) -> [NodeCommand] {
        guard case .copies(let copies) = result, copies.count == check.items.count else {
            return [.respond(reply: reply, .nack(reason: "the copies could not be read"))]
        }
        let flags = zip(check.items, copies).map { item, copies in copies.allSatisfy { $0.join().descends(item.history) } }
        return [.respond(reply: reply, .reapCheckReply(flags))]
    }
}

extension StorageResult {
    /// How an executor answers `StorageCommand.reapCandidates`, given `listing`: the
    /// partition's first `limit + 1` keys after the cursor (or all, if fewer) in byte order,
    /// and `object`, which reads a key's stored object. The first `limit` are examined; `next`
    /// is the last of them when more follow.
    public static func reapCandidates(
        listing: [[UInt8]], limit: Int, wallNow: WallClockTime, graceMilliseconds: UInt64,
        object: ([UInt8]) throws -> DVVSet<[UInt8]>?
    ) rethrows -> StorageResult {
        let page = listing.prefix(limit)
        var found: [KeyedObject] = []
        for key in page {
            guard let stored = try object(key),
                  stored.isReapable(atMilliseconds: wallNow.millisecondsSince1970, graceMilliseconds: graceMilliseconds) else { continue }
            found.append(KeyedObject(key: key, object: stored))
        }
        return .objects(found, next: listing.count > limit ? page.last : nil)
    }
}
