extension Membership {
    /// One node's membership protocol: the gossiped ``State``, its ``PhiAccrualDetector`` and
    /// its timers, as a value. The shell feeds it events (`onTick`, `onMessage`, the operator's
    /// `onLeave`/`onRemove`, `onHandoffComplete`) with the current time and carries out the
    /// returned ``Effect``s in order. It reads no clock and makes no randomness: `onTick`
    /// takes a random number from the shell, so a simulation replays exactly.
    ///
    /// Caller's duties: persist `state` when a `memberChanged` or `ringChanged` directive says it
    /// changed, before acting on the change; restore it with `init(restoring:...)` after a
    /// restart, so the node's incarnation never goes back. When the node's own entry becomes a
    /// tombstone (`left` or `removed`), stop serving and exit after a few gossip intervals (the
    /// instance keeps gossiping so the tombstone spreads, but stops heartbeating).
    public struct Instance: Sendable {
        /// This node.
        public let me: NodeID
        /// This node's internode address.
        public let address: String
        /// Addresses to contact while joining (and when no member is known).
        public let seeds: [String]
        public let settings: Settings
        /// This node's signing key and the check of others' entries; nil: entries are neither
        /// signed nor checked (core tests that write entries by hand).
        public let signatures: (any Signatures)?
        public internal(set) var state: State
        public internal(set) var detector: PhiAccrualDetector
        /// The reachability last reported per monitored node (monitoring starts reachable).
        var reported: [NodeID: Bool] = [:]
        var nextGossip = MonotonicTime.zero
        var nextHeartbeat = MonotonicTime.zero
        var heartbeatSequence: UInt64 = 0

        /// A new node that joins the cluster through `seeds` (DESIGN.md §3: "joining = contacting
        /// any seed"). It is `joining` until it has received the cluster's ring, then `valid`.
        public init(
            joining me: NodeID, address: String, clusterName: String, seeds: [String], settings: Settings = Settings(),
            signatures: (any Signatures)? = nil
        ) {
            self.init(me: me, address: address, seeds: seeds, settings: settings, signatures: signatures, state: State(clusterName: clusterName))
            state.merge(signed(Member(id: me, address: address, status: .joining, incarnation: 1)))
        }

        /// The first node of a new cluster: `valid` at once, with the canonical one-member ring
        /// at version 1.
        public static func bootstrap(
            _ me: NodeID, address: String, clusterName: String, partitionCount: Int = 64, targetReplicas: Int = 3,
            seeds: [String] = [], settings: Settings = Settings(), signatures: (any Signatures)? = nil
        ) -> Instance {
            let ring = VersionedRing(version: 1, ring: Ring(members: [me], partitionCount: partitionCount, targetReplicas: targetReplicas))
            var instance = Instance(me: me, address: address, seeds: seeds, settings: settings, signatures: signatures,
                                    state: State(clusterName: clusterName, ring: ring))
            instance.state.merge(instance.signed(Member(id: me, address: address, status: .valid, incarnation: 1)))
            return instance
        }

        /// A node restarting with the state it persisted. If its address changed, it bumps its
        /// incarnation so the new address wins everywhere. A node that restarts without its
        /// entry (never persisted) joins again.
        public init(
            restoring state: State, me: NodeID, address: String, seeds: [String], settings: Settings = Settings(),
            signatures: (any Signatures)? = nil
        ) {
            self.init(me: me, address: address, seeds: seeds, settings: settings, signatures: signatures, state: state)
            if let entry = state.members[me] {
                if !entry.status.isTombstone, entry.address != address {
                    let incarnation = entry.incarnation == .max ? UInt64.max : entry.incarnation + 1
                    self.state.merge(signed(Member(id: me, address: address, status: entry.status, incarnation: incarnation)))
                }
            } else {
                self.state.merge(signed(Member(id: me, address: address, status: .joining, incarnation: 1)))
            }
        }

        init(me: NodeID, address: String, seeds: [String], settings: Settings, signatures: (any Signatures)?, state: State) {
            self.me = me
            self.address = address
            self.seeds = seeds
            self.settings = settings
            self.signatures = signatures
            self.state = state
            self.detector = PhiAccrualDetector(settings: settings.detector)
        }

        // MARK: queries

        /// This node's own entry.
        public var myself: Member {
            guard let entry = state.members[me] else { preconditionFailure("instance \(me) lost its own entry") }
            return entry
        }

        /// The ring this node holds; `nil` while joining.
        public var ring: VersionedRing? { state.ring }

        /// Every member entry (tombstones included), sorted by identity.
        public var members: [Member] { state.members.values.sorted { $0.id < $1.id } }

        /// This node's opinion: is `node` reachable now? Itself always is; tombstones and
        /// unknown nodes are not.
        public func isReachable(_ node: NodeID, now: MonotonicTime) -> Bool {
            node == me || detector.isReachable(node, now: now)
        }

        /// The nodes this instance last reported reachable (through `reachabilityChanged`
        /// effects, or reachable since monitoring began), itself included: the opinion a node
        /// acts on between ticks, and what its other core instances are told.
        public var reportedReachable: Set<NodeID> {
            Set(reported.compactMap { $0.value ? $0.key : nil }).union([me])
        }

        /// φ of `node` now, `nil` if it is not monitored.
        public func phi(_ node: NodeID, now: MonotonicTime) -> Double? {
            detector.phi(node, now: now)
        }

        // MARK: operator and handoff events

        /// `cairn cluster leave` reached this node: it becomes `leaving`, the next ring excludes
        /// it, and handoff moves its partitions away. Call `onHandoffComplete` when done.
        public mutating func onLeave(now: MonotonicTime) throws(Membership.Error) -> [Effect] {
            let entry = myself
            guard entry.status == .valid else { throw .invalidStatus(me, entry.status) }
            guard state.owners != [me] else { throw .lastOwner(me) }
            let ringBefore = state.ring
            let leaving = bump(status: .leaving)
            return settle(changed: [leaving], ringBefore: ringBefore, now: now)
        }

        /// Handoff of every partition this leaving node held has completed: it becomes `left`
        /// and pushes that to every live member at once (the shell exits soon after).
        public mutating func onHandoffComplete(now: MonotonicTime) throws(Membership.Error) -> [Effect] {
            let entry = myself
            guard entry.status == .leaving else { throw .invalidStatus(me, entry.status) }
            let ringBefore = state.ring
            let left = bump(status: .left)
            var effects = settle(changed: [left], ringBefore: ringBefore, now: now)
            for peer in state.liveMembers where peer.id != me {
                effects.append(.send(to: peer.address, .update(envelope, members: [left], ring: nil)))
            }
            return effects
        }

        /// An operator committed this staged join (`cairn cluster commit`, relayed by the node
        /// that took it): a `joining` node that holds the ring at `ringVersion` or later becomes
        /// `valid`, and the next ring gives it partitions. A node still short of that ring
        /// throws `ringBehind` (the committer retries once gossip has brought it the ring), so
        /// the ring it derives is the one the plan predicted.
        public mutating func onCommit(ringVersion: UInt64, now: MonotonicTime) throws(Membership.Error) -> [Effect] {
            let entry = myself
            guard entry.status == .joining else { throw .invalidStatus(me, entry.status) }
            guard let held = state.ring, held.version >= ringVersion else { throw .ringBehind(state.ring?.version ?? 0, ringVersion) }
            let ringBefore = state.ring
            let valid = bump(status: .valid)
            return settle(changed: [valid], ringBefore: ringBefore, now: now)
        }

        /// `cairn cluster remove NODE` reached this node: `node` becomes a `removed` tombstone,
        /// which beats anything `node` later says about itself. Removing a tombstone is a no-op.
        public mutating func onRemove(_ node: NodeID, now: MonotonicTime) throws(Membership.Error) -> [Effect] {
            guard let entry = state.members[node] else { throw .unknownMember(node) }
            if entry.status.isTombstone { return [] }
            guard state.owners != [node] else { throw .lastOwner(node) }
            // Other nodes take a removal signed by a member of their ring only.
            guard state.ring?.ring.members.contains(me) == true else { throw .invalidStatus(me, myself.status) }
            let ringBefore = state.ring
            var removed = entry
            removed.status = .removed
            removed = signed(removed)
            state.merge(removed)
            return settle(changed: [removed], ringBefore: ringBefore, now: now)
        }

        // MARK: shared steps

        var envelope: Envelope { Envelope(clusterName: state.clusterName, from: me, fromAddress: address) }

        /// Sets this node's status with the next incarnation; returns the new entry.
        mutating func bump(status: Status) -> Member {
            var entry = myself
            entry.status = status
            entry.address = address
            // Incarnations from peers are bounded when decoded (2^62); this never saturates.
            entry.incarnation = entry.incarnation == .max ? .max : entry.incarnation + 1
            entry = signed(entry)
            state.merge(entry)
            return entry
        }

        /// Everything that follows a change of the state: this node's own corrections, the
        /// next ring, detector bookkeeping; and the effects that report them.
        ///
        /// `changed` lists the entries already changed by the caller; the ring held before the
        /// change is compared against the ring after derivation.
        mutating func settle(changed: [Member], ringBefore before: VersionedRing?, now: MonotonicTime) -> [Effect] {
            var changed = changed
            let entry = myself
            if !entry.status.isTombstone {
                if entry.address != address {
                    // Someone holds a newer entry of ours with another address (a restart that
                    // lost its state): refute it, as SWIM refutes suspicion, with a higher incarnation.
                    changed.append(bump(status: entry.status))
                } else if entry.status == .joining, state.ring != nil, !settings.stagedJoin {
                    // Heard from the cluster: adopt its ring and become an owner (a staged join
                    // waits for `onCommit`).
                    changed.append(bump(status: .valid))
                }
            }
            changed += reattestRemovals()
            // The ring as adopted (from gossip), before this node derives the next one from the
            // members: reported too when both happen, so the shell sees every step and can plan
            // handoff from the ring the cluster really had.
            let adopted = state.ring
            if let next = state.derivedRing() { state.merge(next) }

            var effects: [Effect] = []
            var seen = Set<NodeID>()
            for member in changed where seen.insert(member.id).inserted {
                if let current = state.members[member.id] { effects.append(.memberChanged(current)) }
            }
            if let adopted, adopted != before, adopted != state.ring { effects.append(.ringChanged(adopted)) }
            if let ring = state.ring, ring != before { effects.append(.ringChanged(ring)) }
            effects += updateMonitoring(now: now)
            return effects
        }
    }
}
