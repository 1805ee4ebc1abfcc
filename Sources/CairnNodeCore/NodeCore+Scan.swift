import CairnCore

/// Cluster-wide prefix scans: one page of live keys across every partition.
///
/// The coordinator picks a *covering set*: for each partition one of its N replicas — this
/// node when it is one and holds the partition (not pending), else the first reachable replica
/// in preference-list order — and sends each chosen node one `scanRequest` naming its
/// partitions. Each node answers with at most `limit` live keys after `after`, in byte order,
/// and `through`: the key up to which its answer is complete (it stops at `limit` keys, or
/// after examining `scanExamineLimit` keys, so a scan never stalls a node). The coordinator
/// keeps the keys up to the smallest `through`, in order, and answers the first `limit`; the
/// page's `next` is its last key when it is full, else that smallest `through`. A node that
/// fails or times out, or declines a partition (not a replica any more, or pending), has its
/// partitions asked of the next replica; a partition with no replica left fails the scan.
///
/// Like a read with R = 1 per partition, a scan shows what one replica holds: a write that has
/// not reached it yet is missing until anti-entropy or read repair brings it (docs/api.md).
extension NodeCore {
    /// One scan being coordinated here.
    struct ScanState: Sendable {
        var client: UInt64
        var prefix: [UInt8]
        var after: [UInt8]?
        var limit: Int
        var values: Bool
        /// Replicas already asked for each partition (and failed or declined).
        var tried: [Int: Set<NodeID>] = [:]
        /// Parts out: call (or local operation) → the partitions it covers.
        var outstanding: [UInt64: [Int]] = [:]
        /// The answers so far.
        var parts: [ScanReply] = []
        var failed: RequestFailure?
    }

    /// A page of `GET /v1/keys?prefix=&after=&limit=` across the cluster. Answered by
    /// `.replyScan`.
    public mutating func onClientScan(
        client: UInt64, prefix: [UInt8], after: [UInt8]?, limit: Int, values: Bool, now: MonotonicTime,
        wallNow: WallClockTime
    ) -> [NodeCommand] {
        let view = clusterView(now: now)
        if let refusal = refusal(view) { return [.replyScan(client: client, .failure(refusal))] }
        guard let ring = view.ring else { return [] }
        let number = newNumber()
        scans[number] = ScanState(client: client, prefix: prefix, after: after, limit: max(1, limit), values: values)
        return askForScan(number, partitions: Array(0..<ring.partitionCount), view: view, wallNow: wallNow)
    }

    /// Sends each of `partitions` to a replica not yet tried, grouped by node.
    mutating func askForScan(_ number: UInt64, partitions: [Int], view: ClusterView, wallNow: WallClockTime) -> [NodeCommand] {
        guard var state = scans[number], let ring = view.ring else { return [] }
        var byNode: [NodeID: [Int]] = [:]
        for partition in partitions {
            let replicas = ring.preferenceList(for: partition, n: settings.replicas)
            let tried = state.tried[partition, default: []]
            let candidates = replicas.filter { !tried.contains($0) && ($0 == id ? !view.isPending(partition) : view.isReachable($0)) }
            guard let chosen = candidates.first(where: { $0 == id }) ?? candidates.first else {
                state.failed = .partitionUnavailable(partition: partition)
                continue
            }
            state.tried[partition, default: []].insert(chosen)
            if settings.brokenLocalScan && chosen != id { continue }
            byNode[chosen, default: []].append(partition)
        }
        var commands: [NodeCommand] = []
        for (node, parts) in byNode.sorted(by: { $0.key < $1.key }) {
            let request = ScanRequest(partitions: parts, prefix: state.prefix, after: state.after, limit: state.limit, values: state.values)
            if node == id {
                let operation = newOperation(.scanPart(scan: number))
                state.outstanding[operation] = parts
                commands.append(.storage(operation: operation, scanCommand(request, wallNow: wallNow)))
            } else {
                let call = newCall(.scan(scan: number, from: node))
                state.outstanding[call] = parts
                commands.append(.request(call: call, to: node, .scanRequest(request), timeoutMilliseconds: settings.requestTimeoutMilliseconds))
            }
        }
        scans[number] = state
        return commands + finishScanIfDone(number)
    }

    /// The storage scan for `request`: at most `limit` live keys (capped), at most
    /// `scanExamineLimit` records read.
    func scanCommand(_ request: ScanRequest, wallNow: WallClockTime) -> StorageCommand {
        .scan(partitions: request.partitions, prefix: request.prefix, after: request.after,
              limit: min(request.limit, settings.scanMaxLimit), values: request.values,
              examineLimit: max(1, settings.scanExamineLimit), wallNow: wallNow)
    }

    /// Merges answers that cover disjoint partitions into one of at most `limit` keys: the keys
    /// up to the smallest `through` (where every answer is complete), in byte order, cut at
    /// `limit` (then complete through the last key kept).
    static func mergeScanParts(_ parts: [ScanReply], limit: Int) -> ScanReply {
        var through: [UInt8]?
        for part in parts {
            guard let bound = part.through else { continue }
            if through.map({ bound.lexicographicallyPrecedes($0) }) ?? true { through = bound }
        }
        var items = parts.flatMap(\.items)
        if let through { items.removeAll { through.lexicographicallyPrecedes($0.key) } }
        items.sort { $0.key.lexicographicallyPrecedes($1.key) }
        if items.count > limit {
            items.removeLast(items.count - limit)
            through = items.last?.key
        }
        return ScanReply(items: items, through: through, unavailable: parts.flatMap(\.unavailable))
    }

    /// One part answered (`reply` nil: it failed): keep its keys, ask again for what it did
    /// not cover.
    mutating func scanPartAnswered(_ number: UInt64, part: UInt64, _ reply: ScanReply?, view: ClusterView, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard var state = scans[number], let parts = state.outstanding.removeValue(forKey: part) else { return [] }
        var retry = parts
        if let reply {
            let declined = Set(reply.unavailable)
            retry = parts.filter { declined.contains($0) }
            state.parts.append(ScanReply(items: reply.items, through: reply.through))
        }
        scans[number] = state
        guard state.failed == nil, !retry.isEmpty else { return finishScanIfDone(number) }
        return askForScan(number, partitions: retry, view: view, wallNow: wallNow)
    }

    /// Answers the client once no part is out.
    mutating func finishScanIfDone(_ number: UInt64) -> [NodeCommand] {
        guard let state = scans[number], state.outstanding.isEmpty else { return [] }
        scans[number] = nil
        if let failure = state.failed { return [.replyScan(client: state.client, .failure(failure))] }
        let merged = Self.mergeScanParts(state.parts, limit: state.limit)
        return [.replyScan(client: state.client, .success(ScanPageResult(items: merged.items, next: merged.through)))]
    }

    /// A peer's part of its scan: the partitions this node serves, from storage.
    mutating func answerScan(_ request: ScanRequest, reply: UInt64, view: ClusterView, wallNow: WallClockTime) -> [NodeCommand] {
        guard let ring = view.ring else {
            return [.respond(reply: reply, .scanReply(ScanReply(items: [], through: nil, unavailable: request.partitions)))]
        }
        var served: [Int] = []
        var declined: [Int] = []
        for partition in request.partitions {
            if partition >= 0, partition < ring.partitionCount, !view.isPending(partition),
               ring.preferenceList(for: partition, n: settings.replicas).contains(id) {
                served.append(partition)
            } else {
                declined.append(partition)
            }
        }
        guard !served.isEmpty else {
            return [.respond(reply: reply, .scanReply(ScanReply(items: [], through: nil, unavailable: declined)))]
        }
        var part = request
        part.partitions = served
        let operation = newOperation(.answerScan(reply: reply, declined: declined))
        return [.storage(operation: operation, scanCommand(part, wallNow: wallNow))]
    }
}

/// One page of a cluster-wide scan.
public struct ScanPageResult: Sendable, Equatable {
    /// The live keys, in byte order (with their objects when values were asked for).
    public var items: [ScanItem]
    /// Where the next page starts (`after=`), or nil when the scan is complete.
    public var next: [UInt8]?

    public init(items: [ScanItem], next: [UInt8]?) {
        self.items = items
        self.next = next
    }
}

extension ScanReply {
    /// How an executor answers `StorageCommand.scan`, given `listings`: for each partition,
    /// its first `limit + 1` matching keys (or all, if fewer) in byte order, and `object`,
    /// which reads the stored object of a key of the listing at that index.
    ///
    /// Keys come from the key index, which is cheap; records are read only in merged key
    /// order, until `limit` keys are live or `examineLimit` records were read, so a page costs
    /// about `limit` record reads however many partitions the node answers for. A listing cut
    /// at `limit + 1` says nothing about keys after its `limit`-th, so the merge stops there:
    /// `through` is the smallest such key, the last key examined, or the last live key kept
    /// (nil when every listing was complete and examined to its end).
    public static func merging(
        listings: [[[UInt8]]], limit: Int, examineLimit: Int, values: Bool, wallNow: WallClockTime,
        object: (_ listing: Int, _ key: [UInt8]) throws -> DVVSet<[UInt8]>?
    ) rethrows -> ScanReply {
        var bound: [UInt8]?
        for listing in listings where listing.count > limit {
            let last = listing[limit - 1]
            if bound.map({ last.lexicographicallyPrecedes($0) }) ?? true { bound = last }
        }
        var candidates: [(key: [UInt8], listing: Int)] = []
        for (index, listing) in listings.enumerated() {
            for key in listing.prefix(limit) where bound.map({ !$0.lexicographicallyPrecedes(key) }) ?? true {
                candidates.append((key, index))
            }
        }
        candidates.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var items: [ScanItem] = []
        for (examined, candidate) in candidates.enumerated() {
            if examined == examineLimit { return ScanReply(items: items, through: candidates[examined - 1].key) }
            guard let stored = try object(candidate.listing, candidate.key),
                  !stored.isDeleted(at: wallNow) else { continue }
            items.append(ScanItem(key: candidate.key, object: values ? stored : nil))
            if items.count == limit { return ScanReply(items: items, through: candidate.key) }
        }
        return ScanReply(items: items, through: bound)
    }
}
