import CairnCore

/// The cluster's clock (home instance): every `clockProbeIntervalMilliseconds` a probe to each
/// reachable member, each answer a sample for `ClusterClock`, and the correction the shell adds
/// to the wall clock it gives every instance — so TTL expiry, hint ages and reaping run on the
/// cluster's median clock, not on this machine's (docs/operations.md, "Clocks").
///
/// The `wallNow` this core is given is the corrected time; a probe carries the machine's own
/// clock (`rawWall`), since offsets are between the machines' clocks.
extension NodeCore {
    /// Milliseconds the shell adds to this machine's wall clock (0 on instances other than the
    /// home one, which take the home one's).
    public var clockCorrectionMilliseconds: Int64 { clusterClock.correction }

    /// This machine's own wall clock, from the corrected time the core was given.
    func rawWall(_ wallNow: WallClockTime) -> WallClockTime {
        let correction = clusterClock.correction
        return correction >= 0 ? wallNow - UInt64(correction) : wallNow + correction.magnitude
    }

    /// Probes every reachable member when due.
    mutating func clockTick(now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard membership != nil, now >= nextClockProbe else { return [] }
        nextClockProbe = now + settings.clockProbeIntervalMilliseconds
        clockSequence &+= 1
        let view = clusterView(now: now)
        let sentAt = rawWall(wallNow)
        var commands: [NodeCommand] = []
        for member in cluster.members.values.sorted(by: { $0.id < $1.id })
        where member.id != id && !member.status.isTombstone && view.isReachable(member.id) {
            clockProbes[member.id] = (clockSequence, now, sentAt)
            commands.append(.send(to: member.id, .clockProbe(sequence: clockSequence, sentAt: sentAt)))
        }
        return commands
    }

    /// A member's probe: answer at once with this machine's clock.
    func answerClockProbe(from peer: NodeID, sequence: UInt64, sentAt: WallClockTime, wallNow: WallClockTime) -> [NodeCommand] {
        [.send(to: peer, .clockReply(sequence: sequence, sentAt: sentAt, receivedAt: rawWall(wallNow)))]
    }

    /// The answer to this node's last probe of `peer`: a sample, and the correction again.
    mutating func clockReplied(from peer: NodeID, sequence: UInt64, sentAt: WallClockTime, receivedAt: WallClockTime,
                               now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        // The answer must echo this node's own probe (sequence and time); the time used is the
        // one kept here, not the echo.
        guard membership != nil, let probe = clockProbes[peer], probe.sequence == sequence, probe.wall == sentAt else { return [] }
        clockProbes[peer] = nil
        let roundTrip = now >= probe.sent ? now.milliseconds - probe.sent.milliseconds : 0
        let offset = ClusterClock.offset(sent: probe.wall, peer: receivedAt, received: rawWall(wallNow))
        clusterClock.record(ClusterClock.Sample(offset: offset, roundTrip: roundTrip, at: now), from: peer)
        let view = clusterView(now: now)
        let peers = cluster.members.values.filter { $0.id != id && !$0.status.isTombstone && view.isReachable($0.id) }.map(\.id)
        for gone in clusterClock.samples.keys where cluster.members[gone].map({ $0.status.isTombstone }) ?? true {
            clusterClock.forget(gone)
        }
        let live = liveMemberCount
        guard !settings.brokenNoClockCorrection else { return [] }
        let correction = clusterClock.updateCorrection(peers: peers, members: live, now: now)
        // Most members over a day away: this clock is broken beyond correcting; say so.
        let beyond = correction.magnitude > settings.clockBoundMilliseconds || clockIsOutOfRange(members: live)
        guard beyond != clockBeyondBound else { return [] }
        clockBeyondBound = beyond
        return [.notice(.clockSkew(
            correctionMilliseconds: correction, boundMilliseconds: settings.clockBoundMilliseconds, outOfRange: clockIsOutOfRange(members: live)))]
    }

    /// Each peer's estimated offset (its clock minus this machine's) and the round trip of the
    /// sample it rests on, for status and metrics.
    public func clockEstimates(now: MonotonicTime) -> [(peer: NodeID, sample: ClusterClock.Sample)] {
        clusterClock.samples.keys.sorted().compactMap { peer in clusterClock.estimate(of: peer, now: now).map { (peer, $0) } }
    }

    /// Whether this node's correction is past `Settings.clockBoundMilliseconds`, or most
    /// members' clocks are over a day from this machine's.
    public var clockIsBeyondBound: Bool { clockBeyondBound }

    /// Whether most members answered over a day off this machine's clock.
    public func clockIsOutOfRange(members: Int) -> Bool {
        clusterClock.outOfRange.count > (members - 1) / 2
    }

    /// The live members (this node included), as the clock's majority rule counts them.
    public var liveMemberCount: Int { cluster.members.values.filter { !$0.status.isTombstone }.count }
}
