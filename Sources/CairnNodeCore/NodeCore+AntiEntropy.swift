import CairnCore

/// Merkle-tree anti-entropy: the plan of exchanges (a round-robin over this node's partitions
/// and their other primaries, urgent ones first), one exchange at a time, descending the trees
/// level by level, pulling the peer's objects of differing segments a page at a time and
/// merging them in each key's order, then pushing this node's objects there; and the peer's
/// side of it (tree hashes and pages of segment objects).
extension NodeCore {
    /// One exchange in progress.
    struct Exchange: Sendable {
        var session: UInt64
        var partition: Int
        var peer: NodeID
        var machine: MerkleExchange?
        var segments: [Int] = []
        var repaired = 0
    }

    /// A (partition, peer) pair to exchange.
    struct ExchangeTarget: Sendable, Equatable {
        var partition: Int
        var peer: NodeID
    }

    /// Asks for an exchange of `partition` with `peer` soon (a hint for it was dropped).
    mutating func wantExchange(partition: Int, with peer: NodeID, view: ClusterView) {
        guard peer != id, let ring = view.ring, partition >= 0, partition < ring.partitionCount,
              ring.preferenceList(for: partition, n: settings.replicas).contains(id)
        else { return }
        let target = ExchangeTarget(partition: partition, peer: peer)
        guard !urgentExchanges.contains(target), urgentExchanges.count < settings.maxUrgentExchanges else { return }
        urgentExchanges.append(target)
    }

    /// Starts the next exchange of the plan unless one is running.
    mutating func startExchange(view: ClusterView, now: MonotonicTime) -> [NodeCommand] {
        guard exchange == nil, let ring = view.ring else { return [] }
        if plannedRing != ring {
            plannedRing = ring
            exchangePlan = []
            for partition in 0..<ring.partitionCount where shard.owns(partition) {
                let replicas = ring.preferenceList(for: partition, n: settings.replicas)
                guard replicas.contains(id) else { continue }
                for peer in replicas where peer != id { exchangePlan.append(ExchangeTarget(partition: partition, peer: peer)) }
            }
            exchangeCursor = 0
        }
        var next: ExchangeTarget?
        while next == nil, !urgentExchanges.isEmpty {
            let candidate = urgentExchanges.removeFirst()
            if view.isReachable(candidate.peer) { next = candidate }
        }
        if next == nil, !exchangePlan.isEmpty, !antiEntropyPaused, now >= nextSweepExchange {
            for _ in 0..<exchangePlan.count {
                let candidate = exchangePlan[exchangeCursor % exchangePlan.count]
                exchangeCursor = (exchangeCursor + 1) % exchangePlan.count
                if view.isReachable(candidate.peer) {
                    next = candidate
                    nextSweepExchange = now + settings.antiEntropyIntervalMilliseconds
                    break
                }
            }
        }
        guard let next else { return [] }
        let session = newNumber()
        exchange = Exchange(session: session, partition: next.partition, peer: next.peer)
        let operation = newOperation(.exchangeTree(session: session))
        return [.storage(operation: operation, .readTree(partition: next.partition))]
    }

    /// This node's tree of the exchange's partition was read: ask for the peer's root.
    mutating func exchangeTreeRead(session: UInt64, _ result: StorageResult) -> [NodeCommand] {
        guard var current = exchange, current.session == session else { return [] }
        guard case .tree(let tree?) = result else {
            exchange = nil
            return []
        }
        var machine = MerkleExchange(local: tree)
        guard case .request(let request) = machine.start() else {
            exchange = nil
            return []
        }
        current.machine = machine
        exchange = current
        let call = newCall(.exchangeHashes(session: session))
        return [.request(call: call, to: current.peer, .merkleHashesRequest(partition: current.partition, request),
                         timeoutMilliseconds: settings.requestTimeoutMilliseconds)]
    }

    /// The peer's hashes of the level asked for: descend, or pull the differing segments.
    mutating func exchangeHashes(session: UInt64, _ message: WireMessage?) -> [NodeCommand] {
        guard var current = exchange, current.session == session, var machine = current.machine,
              case .merkleHashes(let hashes)? = message, let step = try? machine.receive(hashes)
        else {
            if exchange?.session == session { exchange = nil }
            return []
        }
        current.machine = machine
        switch step {
        case .request(let request):
            exchange = current
            let call = newCall(.exchangeHashes(session: session))
            return [.request(call: call, to: current.peer, .merkleHashesRequest(partition: current.partition, request),
                             timeoutMilliseconds: settings.requestTimeoutMilliseconds)]
        case .done(let segments):
            current.segments = segments
            exchange = current
            guard !segments.isEmpty else { return finishExchange() }
            return pullPage(after: nil)
        }
    }

    mutating func pullPage(after: [UInt8]?) -> [NodeCommand] {
        guard let current = exchange else { return [] }
        let call = newCall(.exchangePage(session: current.session))
        let request = SegmentObjectsRequest(partition: current.partition, segments: current.segments, after: after)
        return [.request(call: call, to: current.peer, .segmentObjectsRequest(request), timeoutMilliseconds: settings.requestTimeoutMilliseconds)]
    }

    /// A page of the peer's objects: merge each (in its key's order), then the next page, or
    /// push this node's objects once the peer's are all here.
    mutating func exchangePage(session: UInt64, _ message: WireMessage?, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard let current = exchange, current.session == session, case .segmentObjects(let page)? = message else {
            if exchange?.session == session { exchange = nil }
            return []
        }
        var commands: [NodeCommand] = []
        for item in page.items where partitionProblem(current.partition, key: item.key, view: view) == nil {
            commands += enter(item.key, .store(key: item.key, partition: current.partition, object: item.object, hintFor: nil,
                                               then: .exchange(session: session)), view: view, now: now, wallNow: wallNow)
        }
        if let next = page.next, !page.items.isEmpty {
            return commands + pullPage(after: next)
        }
        let operation = newOperation(.exchangePush(session: session))
        return commands + [.storage(operation: operation, .segmentObjects(
            partition: current.partition, segments: current.segments, after: nil, limit: settings.exchangePageSize))]
    }

    /// A page of this node's objects in the differing segments: sent to the peer to merge.
    mutating func exchangePush(session: UInt64, _ result: StorageResult) -> [NodeCommand] {
        guard let current = exchange, current.session == session, case .objects(let items, let next) = result else {
            if exchange?.session == session { exchange = nil }
            return []
        }
        var commands: [NodeCommand] = items.map {
            .send(to: current.peer, .readRepair(Replicate(key: $0.key, partition: current.partition, object: $0.object)))
        }
        if let next, !items.isEmpty {
            let operation = newOperation(.exchangePush(session: session))
            commands.append(.storage(operation: operation, .segmentObjects(
                partition: current.partition, segments: current.segments, after: next, limit: settings.exchangePageSize)))
            return commands
        }
        return commands + finishExchange()
    }

    mutating func finishExchange() -> [NodeCommand] {
        guard let current = exchange else { return [] }
        exchange = nil
        return [.notice(.exchanged(partition: current.partition, peer: current.peer, segments: current.segments.count,
                                   repaired: current.repaired))]
    }

    // MARK: the peer's side

    /// The hashes a peer asked for, from this node's tree of the partition.
    mutating func answerHashes(reply: UInt64, request: MerkleExchange.Request, _ result: StorageResult) -> [NodeCommand] {
        guard case .tree(let tree?) = result else {
            return [.respond(reply: reply, .nack(reason: "no tree of that partition here"))]
        }
        guard request.level >= 0, request.level <= tree.levels, request.indices.count <= tree.segmentCount else {
            return [.respond(reply: reply, .nack(reason: "Merkle request outside the tree: level \(request.level)"))]
        }
        let width = 1 << (tree.fanoutBits * request.level)
        guard request.indices.allSatisfy({ $0 >= 0 && $0 < width }) else {
            return [.respond(reply: reply, .nack(reason: "Merkle request outside the tree: level \(request.level)"))]
        }
        return [.respond(reply: reply, .merkleHashes(tree.hashes(level: request.level, indices: request.indices)))]
    }
}
