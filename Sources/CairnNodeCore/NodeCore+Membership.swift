import CairnCore

/// Membership in the core: gossip and failure detection (`Membership.Instance`), what a ring
/// change sets off (handoff planning, persisting the state), and the operator's leave and
/// remove.
extension NodeCore {
    /// The cluster as this core sees it at `now`.
    func clusterView(now: MonotonicTime) -> ClusterView {
        let membership = self.membership
        let me = id
        let pending = pendingIn
        return ClusterView(
            ring: membership.ring?.ring, isReachable: { $0 == me || membership.isReachable($0, now: now) },
            isPending: { pending[$0] != nil })
    }

    /// The ring this node serves with, if it has joined.
    public var ring: Ring? { membership.ring?.ring }

    /// Whether `node` is reachable now, in this node's failure detector's opinion.
    public func isReachable(_ node: NodeID, now: MonotonicTime) -> Bool {
        node == id || membership.isReachable(node, now: now)
    }

    /// A membership timer of the core came due (gossip, heartbeats, failure detection).
    mutating func membershipTick(random: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        performMembership(membership.onTick(now: now, random: random), now: now, wallNow: wallNow)
    }

    /// Carries out membership's effects; a ring change plans handoff.
    mutating func performMembership(_ effects: [Membership.Effect], now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
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
                commands += ringMoved(to: ring.ring, now: now, wallNow: wallNow)
            case .memberChanged(let member):
                commands.append(.persistMembership(membership.state))
                commands.append(.notice(.memberChanged(member)))
            case .reachabilityChanged(let node, let reachable):
                commands.append(.notice(.reachabilityChanged(node, reachable: reachable)))
                if reachable {
                    let view = clusterView(now: now)
                    commands += deliverHints(to: node, view: view, wallNow: wallNow)
                }
            case .rejected(let from, let clusterName):
                commands.append(.notice(.rejectedOtherCluster(from: from, clusterName: clusterName)))
            }
        }
        return commands
    }

    /// `cairn cluster leave`: this node becomes `leaving`, the next ring leaves it out, it hands
    /// its partitions to their new replicas, then becomes `left` and stops serving.
    public mutating func onLeave(now: MonotonicTime, wallNow: WallClockTime) throws(Membership.Error) -> [NodeCommand] {
        var commands = performMembership(try membership.onLeave(now: now), now: now, wallNow: wallNow)
        commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        return commands
    }

    /// `cairn cluster leave NODE` sent to any node: this node leaves itself, or tells `node`
    /// to (a one-way `leaveRequest`; the leave shows in the member list once `node` gossips it).
    public mutating func onLeave(of node: NodeID, now: MonotonicTime, wallNow: WallClockTime)
        throws(Membership.Error) -> [NodeCommand]
    {
        if node == id { return try onLeave(now: now, wallNow: wallNow) }
        guard let member = membership.state.members[node], !member.status.isTombstone else { throw .unknownMember(node) }
        return [.send(to: node, .leaveRequest)]
    }

    /// `cairn cluster remove NODE`: an operator removes a member that is gone for good.
    public mutating func onRemove(_ node: NodeID, now: MonotonicTime, wallNow: WallClockTime) throws(Membership.Error) -> [NodeCommand] {
        return performMembership(try membership.onRemove(node, now: now), now: now, wallNow: wallNow)
    }

    /// A leaving node whose transfers are all done (or failed for good) becomes `left`.
    mutating func finishLeavingIfDone(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard membership.myself.status == .leaving, transferQueue.isEmpty, runningTransfers.isEmpty, casStatesPaid(now: now) else { return [] }
        guard let effects = try? membership.onHandoffComplete(now: now) else { return [] }
        return [.notice(.left)] + performMembership(effects, now: now, wallNow: wallNow)
    }

    /// A member by its id (32 hex digits) or its internode address.
    public func member(named text: String) -> NodeID? {
        if let id = NodeID(hex: text), membership.state.members[id] != nil { return id }
        return membership.state.members.values.first { $0.address == text }?.id
    }
}
