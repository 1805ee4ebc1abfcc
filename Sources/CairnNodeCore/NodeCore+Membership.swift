import CairnCore

/// Membership in the core: gossip and failure detection (`Membership.Instance`, run by the home
/// instance), what a ring change sets off (handoff planning, persisting the state), the
/// operator's leave and remove, and what the node's instances tell each other (`Shard`).
extension NodeCore {
    /// The cluster as this core sees it: the ring, the members reported reachable, and the
    /// partitions still arriving on any instance of this node.
    func clusterView(now: MonotonicTime) -> ClusterView {
        let me = id
        let reachable = cluster.reachable
        let pending = pendingIn
        let elsewhere = peerShards.values.reduce(into: Set<Int>()) { $0.formUnion($1.pending) }
        return ClusterView(
            ring: cluster.ring?.ring, isReachable: { $0 == me || reachable.contains($0) },
            isPending: { pending[$0] != nil || elsewhere.contains($0) })
    }

    /// The ring this node serves with, if it has joined.
    public var ring: Ring? { cluster.ring?.ring }

    /// Whether `node` is reachable now, in this node's failure detector's opinion (the home
    /// instance asks the detector; the others go by what it last reported).
    public func isReachable(_ node: NodeID, now: MonotonicTime) -> Bool {
        node == id || (membership?.isReachable(node, now: now) ?? cluster.reachable.contains(node))
    }

    /// Every member entry (tombstones included), sorted by identity.
    public var members: [Membership.Member] { cluster.members.values.sorted { $0.id < $1.id } }

    /// φ of `node` in this node's failure detector (the home instance runs it), nil if it is
    /// not monitored.
    public func phi(_ node: NodeID, now: MonotonicTime) -> Double? { membership?.phi(node, now: now) }

    /// Whether this node has left the cluster or was removed from it.
    public var hasLeft: Bool { cluster.members[id]?.status.isTombstone ?? false }

    /// A membership timer of the core came due (gossip, heartbeats, failure detection).
    mutating func membershipTick(random: UInt64, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        performMembership(membership?.onTick(now: now, random: random) ?? [], now: now, wallNow: wallNow)
            + clockTick(now: now, wallNow: wallNow)
    }

    /// Carries out membership's effects (on the home instance); a ring change plans handoff
    /// here and is published to the node's other instances, as is any other change of what
    /// they act on (member entries, reachability).
    mutating func performMembership(_ effects: [Membership.Effect], now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let membership else { return [] }
        var commands: [NodeCommand] = []
        for effect in effects {
            switch effect {
            case .send(let address, let message):
                commands.append(.sendTo(address: address, .membership(message)))
            case .schedule(.tick, let at):
                commands.append(.schedule(.membership, at: at))
            case .ringChanged(let ring):
                commands.append(.persistMembership(membership.state))
                commands.append(.notice(.ringChanged(version: ring.version, members: ring.ring.members.count)))
                // The members as they are after this event (a new member is monitored, and so
                // reachable, from the moment it is known): handoff to it starts at once.
                cluster = ClusterSnapshot(ring: ring, members: membership.state.members, reachable: membership.reportedReachable)
                commands += publishCluster()
                commands += ringMoved(to: ring.ring, now: now, wallNow: wallNow)
            case .memberChanged(let member):
                commands.append(.persistMembership(membership.state))
                commands.append(.notice(.memberChanged(member)))
            case .reachabilityChanged(let node, let reachable):
                commands.append(.notice(.reachabilityChanged(node, reachable: reachable)))
            case .rejected(let from, let clusterName):
                commands.append(.notice(.rejectedOtherCluster(from: from, clusterName: clusterName)))
            case .refused(let refusal, let from):
                commands.append(.notice(.membershipRefused(refusal, from: from)))
            }
        }
        let before = cluster
        cluster = ClusterSnapshot(membership)
        if cluster != before {
            commands += publishCluster()
            for node in cluster.reachable.subtracting(before.reachable).sorted() where node != id {
                commands += deliverHints(to: node, view: clusterView(now: now), wallNow: wallNow)
            }
        }
        return commands
    }

    /// The home instance's view, for the node's other instances (none when it runs alone).
    func publishCluster() -> [NodeCommand] { shard.count > 1 ? [.publishCluster(cluster)] : [] }

    /// The home instance published a change of the cluster (`NodeCommand.publishCluster`): act
    /// on it as the home instance did — plan handoff for a ring change, deliver hints to
    /// members that became reachable.
    public mutating func onCluster(_ snapshot: ClusterSnapshot, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard !shard.isHome else { return [] }
        let before = cluster
        cluster = snapshot
        var commands: [NodeCommand] = []
        if let ring = snapshot.ring, ring != before.ring { commands += ringMoved(to: ring.ring, now: now, wallNow: wallNow) }
        for node in snapshot.reachable.subtracting(before.reachable).sorted() where node != id {
            commands += deliverHints(to: node, view: clusterView(now: now), wallNow: wallNow)
        }
        return commands
    }

    /// Another instance of this node told what it is (`statusIfChanged`).
    public mutating func onShardStatus(from index: Int, _ status: ShardStatus, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        guard index != shard.index, index >= 0, index < shard.count else { return [] }
        peerShards[index] = status
        return finishLeavingIfDone(now: now, wallNow: wallNow)
    }

    /// What this instance is now, if it changed since it was last taken: the executor hands it
    /// to every other instance of the node (`onShardStatus`) after each event. Always nil for a
    /// node that runs one instance.
    public mutating func statusIfChanged(now: MonotonicTime) -> ShardStatus? {
        guard shard.count > 1 else { return nil }
        let leaving = cluster.members[id]?.status == .leaving
        let status = ShardStatus(pending: Set(pendingIn.keys), leaveDone: leaving && leaveDone(now: now))
        guard status != publishedStatus else { return nil }
        publishedStatus = status
        return status
    }

    /// Whether this instance owes no transfer, no acceptor states and no hints any more (hints
    /// are handed to their owners or to reachable primaries first: a node that has left is
    /// asked for no copies before a key is reaped). Hints that find no reachable primary for
    /// `pendingSafetyValveMilliseconds` do not hold the node back for good.
    mutating func leaveDone(now: MonotonicTime) -> Bool {
        let since = leavingSince ?? now
        leavingSince = since
        let hintsHandedOver = ledger.count == 0 || now >= since + settings.pendingSafetyValveMilliseconds
        return transferQueue.isEmpty && runningTransfers.isEmpty && hintsHandedOver && casStatesPaid(now: now)
    }

    /// `cairn cluster leave`: this node becomes `leaving`, the next ring leaves it out, it hands
    /// its partitions to their new replicas, then becomes `left` and stops serving. (Operator
    /// actions go to the home instance.)
    public mutating func onLeave(now: MonotonicTime, wallNow: WallClockTime) throws(Membership.Error) -> [NodeCommand] {
        guard membership != nil else { return [] }
        var commands = performMembership(try membership!.onLeave(now: now), now: now, wallNow: wallNow)
        commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        return commands
    }

    /// `cairn cluster leave NODE` sent to any node: this node leaves itself, or tells `node`
    /// to (a one-way `leaveRequest`; the leave shows in the member list once `node` gossips it).
    public mutating func onLeave(of node: NodeID, ringVersion: UInt64 = 0, now: MonotonicTime, wallNow: WallClockTime)
        throws(Membership.Error) -> [NodeCommand]
    {
        if node == id { return try onLeave(now: now, wallNow: wallNow) }
        guard let member = cluster.members[node], !member.status.isTombstone else { throw .unknownMember(node) }
        return [.send(to: node, .leaveRequest(ringVersion: ringVersion))]
    }

    /// `cairn cluster remove NODE`: an operator removes a member that is gone for good.
    public mutating func onRemove(_ node: NodeID, now: MonotonicTime, wallNow: WallClockTime) throws(Membership.Error) -> [NodeCommand] {
        guard membership != nil else { return [] }
        return performMembership(try membership!.onRemove(node, now: now), now: now, wallNow: wallNow)
    }

    /// The plan of every staged join and the given leaves and removals (`cairn cluster plan`),
    /// from this node's membership state.
    public func clusterPlan(leaving: [NodeID], removing: [NodeID]) throws(ClusterPlan.Problem) -> ClusterPlan {
        guard let state = membership?.state else { throw .noRing }
        return try ClusterPlan(state: state, leaving: leaving, removing: removing, replicas: settings.replicas)
    }

    /// The plan `token` names, recomputed here; `stale` if the cluster has moved since.
    public func clusterPlan(token: String) throws(ClusterPlan.Problem) -> ClusterPlan {
        guard let state = membership?.state else { throw .noRing }
        return try ClusterPlan(token: token, state: state, replicas: settings.replicas)
    }

    /// One step of a committed plan (`cairn cluster commit`), from the ring at `ringVersion`:
    /// a staged joiner is asked to become `valid` (a one-way `commitRequest`, or at once when
    /// it is this node), a leaver to leave, a removal made here. The committer watches for the
    /// step's ring before the next step, and may repeat a join's request (it is idempotent).
    public mutating func commitStep(_ change: ClusterPlan.Change, ringVersion: UInt64, now: MonotonicTime, wallNow: WallClockTime)
        throws(Membership.Error) -> [NodeCommand]
    {
        switch change {
        case .join(let node):
            guard node != id else {
                guard membership != nil else { return [] }
                return performMembership(try membership!.onCommit(ringVersion: ringVersion, now: now), now: now, wallNow: wallNow)
            }
            return [.send(to: node, .commitRequest(ringVersion: ringVersion))]
        case .leave(let node):
            return try onLeave(of: node, ringVersion: ringVersion, now: now, wallNow: wallNow)
        case .remove(let node):
            return try onRemove(node, now: now, wallNow: wallNow)
        }
    }

    /// A staged joiner's commit arrived from an owner: become `valid` if this node holds the
    /// ring the plan started from (else wait for the committer's next request).
    mutating func onCommitRequest(ringVersion: UInt64, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard membership?.myself.status == .joining, let effects = try? membership!.onCommit(ringVersion: ringVersion, now: now) else {
            return []
        }
        return performMembership(effects, now: now, wallNow: wallNow)
    }

    /// A leaving node whose transfers are all done (or failed for good) on every instance
    /// becomes `left` (the home instance decides).
    mutating func finishLeavingIfDone(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard membership?.myself.status == .leaving, leaveDone(now: now), peerShards.count == shard.count - 1,
              peerShards.values.allSatisfy(\.leaveDone)
        else { return [] }
        guard let effects = try? membership!.onHandoffComplete(now: now) else { return [] }
        return [.notice(.left)] + performMembership(effects, now: now, wallNow: wallNow)
    }

    /// A member by its id (32 hex digits) or its internode address.
    public func member(named text: String) -> NodeID? {
        if let id = NodeID(hex: text), cluster.members[id] != nil { return id }
        // An address a tombstone once had may be a live member's now: the live one first.
        let matching = cluster.members.values.filter { $0.address == text }
        return (matching.first { !$0.status.isTombstone } ?? matching.min { $0.id < $1.id })?.id
    }
}
