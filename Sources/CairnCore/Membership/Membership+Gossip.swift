extension Membership.Instance {
    /// The timer fired: gossip with one peer and heartbeat every live member when they are due,
    /// report reachability changes, and schedule the next tick.
    ///
    /// `random` is any uniformly random 64-bit number from the shell; it picks the gossip peer.
    /// The peer is a random reachable live member; with probability 1/(reachable + 1) it is an
    /// unreachable one instead, so a healed partition is noticed (Cassandra's rule). While
    /// joining (no ring yet), or when no other member is known, it is a seed.
    public mutating func onTick(now: MonotonicTime, random: UInt64) -> [Membership.Effect] {
        var effects = updateMonitoring(now: now)
        if now >= nextGossip {
            nextGossip = now + settings.gossipIntervalMilliseconds
            if let peer = gossipPeer(now: now, random: random) {
                effects.append(.send(to: peer, .digest(envelope, versions: state.digest, ring: state.ring?.stamp)))
            }
        }
        if now >= nextHeartbeat {
            nextHeartbeat = now + settings.heartbeatIntervalMilliseconds
            effects += heartbeats()
            heartbeatSequence &+= 1
        }
        effects += reachabilityChanges(now: now)
        let next = min(nextGossip, nextHeartbeat)
        effects.append(.schedule(.tick, at: next))
        return effects
    }

    /// A message from another node arrived.
    public mutating func onMessage(_ message: Membership.Message, now: MonotonicTime) -> [Membership.Effect] {
        let sender = message.envelope
        guard sender.clusterName == state.clusterName else {
            return [.rejected(from: sender.fromAddress, clusterName: sender.clusterName)]
        }
        switch message {
        case .digest(_, let versions, let stamp):
            return answerDigest(from: sender, versions: versions, ringStamp: stamp)
        case .delta(_, let members, let ring, let wanted, let wantsRing):
            var effects = absorb(members: members, ring: ring, from: sender.from, now: now)
            let requested = wanted.compactMap { state.members[$0] }
            let ring = wantsRing ? state.ring : nil
            if !requested.isEmpty || ring != nil {
                effects.append(.send(to: sender.fromAddress, .update(envelope, members: requested, ring: ring)))
            }
            return effects
        case .update(_, let members, let ring):
            return absorb(members: members, ring: ring, from: sender.from, now: now)
        case .heartbeat(_, let sequence):
            return answerHeartbeat(from: sender, sequence: sequence)
        case .heartbeatReply:
            return heartbeatArrived(from: sender.from, now: now)
        }
    }

    /// SYN → ACK: send what is newer here, ask for what is newer there. No reply when the two
    /// states already agree, so a converged cluster gossips only digests.
    mutating func answerDigest(
        from sender: Membership.Envelope, versions: [NodeID: Membership.Member.Version], ringStamp: Membership.VersionedRing.Stamp?
    ) -> [Membership.Effect] {
        var newer: [Membership.Member] = []
        for member in state.members.values {
            if let theirs = versions[member.id], theirs >= member.version { continue }
            newer.append(member)
        }
        newer.sort { $0.id < $1.id }
        var wanted: [NodeID] = []
        for (id, theirs) in versions {
            if let mine = state.members[id], mine.version >= theirs { continue }
            wanted.append(id)
        }
        wanted.sort()
        let myStamp = state.ring?.stamp
        let ring: Membership.VersionedRing? = if let myStamp, ringStamp.map({ $0 < myStamp }) ?? true { state.ring } else { nil }
        let wantsRing = if let ringStamp { myStamp.map { $0 < ringStamp } ?? true } else { false }
        guard !newer.isEmpty || !wanted.isEmpty || ring != nil || wantsRing else { return [] }
        return [.send(to: sender.fromAddress, .delta(envelope, members: newer, ring: ring, wanted: wanted, wantsRing: wantsRing))]
    }

    /// Merges gossiped entries and a ring into the state, then settles. An entry that would
    /// win is checked first (``refusal(of:)``: proven, by a node that may write it); the ring,
    /// after the entries, must agree with them. What is refused is reported and left out; gossip
    /// offers it again, and a true entry or ring is taken once what it depends on has arrived.
    mutating func absorb(
        members: [Membership.Member], ring: Membership.VersionedRing?, from sender: NodeID, now: MonotonicTime
    ) -> [Membership.Effect] {
        let ringBefore = state.ring
        var changed: [Membership.Member] = []
        var refused: [Membership.Effect] = []
        // Removals first: one signed by a node whose own departure arrives in the same message
        // is checked against the ring and entries as they were before it.
        let ordered = members.filter { $0.status == .removed } + members.filter { $0.status != .removed }
        for member in ordered {
            if let held = state.members[member.id], Membership.Member.merged(held, member) == held { continue }
            if let refusal = refusal(of: member, arrivingRing: ring) {
                refused.append(.refused(refusal, from: sender))
                continue
            }
            if let winner = state.merge(member) { changed.append(winner) }
        }
        if let ring, state.ring.map({ Membership.VersionedRing.merged($0, ring) != $0 }) ?? true {
            if let refusal = refusal(of: ring) {
                refused.append(.refused(refusal, from: sender))
            } else {
                state.merge(ring)
            }
        }
        guard !changed.isEmpty || state.ring != ringBefore else { return refused }
        return refused + settle(changed: changed, ringBefore: ringBefore, now: now)
    }

    /// The address to gossip with this round, if any.
    func gossipPeer(now: MonotonicTime, random: UInt64) -> String? {
        let seedAddresses = seeds.filter { $0 != address }
        let peers = state.liveMembers.filter { $0.id != me }
        if state.ring == nil || peers.isEmpty {
            let candidates = state.ring == nil ? seedAddresses + peers.map(\.address) : seedAddresses
            return candidates.isEmpty ? nil : candidates[Int(random % UInt64(candidates.count))]
        }
        let reachable = peers.filter { detector.isReachable($0.id, now: now) }
        let unreachable = peers.filter { !detector.isReachable($0.id, now: now) }
        // Low bits choose the peer, high bits whether to try an unreachable one.
        let index = random & 0xFFFF_FFFF
        let coin = random >> 32
        if reachable.isEmpty || (!unreachable.isEmpty && coin % UInt64(reachable.count + 1) == 0) {
            return unreachable[Int(index % UInt64(unreachable.count))].address
        }
        return reachable[Int(index % UInt64(reachable.count))].address
    }
}
