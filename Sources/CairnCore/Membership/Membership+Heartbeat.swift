extension Membership.Instance {
    /// A heartbeat to every live member, each interval. All-to-all: every node wants its own
    /// opinion of every other, and clusters are small (see ``PhiAccrualDetector``). A node whose
    /// own entry is a tombstone stops heartbeating.
    func heartbeats() -> [Membership.Effect] {
        guard !myself.status.isTombstone else { return [] }
        return state.liveMembers.filter { $0.id != me }.map { member in
            .send(to: member.address, .heartbeat(envelope, sequence: heartbeatSequence))
        }
    }

    /// Answers a heartbeat at once (unless this node is a tombstone: it is gone).
    mutating func answerHeartbeat(from sender: Membership.Envelope, sequence: UInt64) -> [Membership.Effect] {
        guard !myself.status.isTombstone else { return [] }
        return [.send(to: sender.fromAddress, .heartbeatReply(envelope, sequence: sequence))]
    }

    /// A heartbeat reply arrived: one sample for the detector; a suspected node is cleared at
    /// once rather than at the next tick.
    mutating func heartbeatArrived(from node: NodeID, now: MonotonicTime) -> [Membership.Effect] {
        detector.heartbeat(from: node, now: now)
        return reachabilityChanges(now: now, only: [node])
    }

    /// Starts monitoring new live members and stops monitoring tombstones; a monitored node
    /// that became a tombstone is reported unreachable if it was last reported reachable.
    mutating func updateMonitoring(now: MonotonicTime) -> [Membership.Effect] {
        var effects: [Membership.Effect] = []
        for member in state.members.values.sorted(by: { $0.id < $1.id }) where member.id != me {
            if member.status.isTombstone {
                guard detector.monitored.contains(member.id) else { continue }
                detector.unmonitor(member.id)
                if reported.removeValue(forKey: member.id) == true {
                    effects.append(.reachabilityChanged(member.id, reachable: false))
                }
            } else if !detector.monitored.contains(member.id) {
                detector.monitor(member.id, now: now)
                reported[member.id] = true
            }
        }
        return effects
    }

    /// Reachability flips since the last report, for `only` these nodes or every monitored one.
    mutating func reachabilityChanges(now: MonotonicTime, only: [NodeID]? = nil) -> [Membership.Effect] {
        var effects: [Membership.Effect] = []
        for node in only ?? detector.monitored.sorted() {
            guard let last = reported[node] else { continue }
            let reachable = detector.isReachable(node, now: now)
            if reachable != last {
                reported[node] = reachable
                effects.append(.reachabilityChanged(node, reachable: reachable))
            }
        }
        return effects
    }
}
