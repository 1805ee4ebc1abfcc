/// One node's estimate of the cluster's wall clock, from NTP-style probes to its peers.
///
/// A probe carries this node's wall time `t0`; the peer answers with it and its own wall time
/// `t1` at receipt; the answer arrives at `t3`. With symmetric delays the peer's clock is ahead
/// of this one by `θ = t1 − (t0 + t3) / 2`, give or take half the round trip (RFC 5905's offset,
/// with the peer's receive and send times one instant). Per peer the last ``samplesKept``
/// samples are kept and the one with the shortest round trip wins (the NTP clock filter: a
/// sample delayed one way more than the other is off by half the difference, bounded by its
/// round trip). A sample that disagrees with the estimate by more than both uncertainties
/// means a clock was stepped: the older samples are dropped.
///
/// The cluster's time is the median of the members' clocks as this node sees them — its own
/// (offset 0) and each reachable peer's estimate — so one node whose clock is off is corrected
/// to the others rather than dragging them, and every node's corrected clock lands on the same
/// median within the estimation error. `correction` is what this node adds to its own wall
/// clock; TTL expiry, hint ages and reaping then use the corrected time (docs/operations.md,
/// "Clocks").
public struct ClusterClock: Sendable, Equatable {
    /// One probe's result.
    public struct Sample: Sendable, Equatable {
        /// The peer's clock minus this node's, milliseconds.
        public var offset: Int64
        /// Milliseconds from probe to answer, on this node's monotonic clock.
        public var roundTrip: UInt64
        /// When the answer arrived (monotonic).
        public var at: MonotonicTime

        public init(offset: Int64, roundTrip: UInt64, at: MonotonicTime) {
            self.offset = offset
            self.roundTrip = roundTrip
            self.at = at
        }
    }

    /// Samples kept per peer.
    public static let samplesKept = 8
    /// A peer whose newest sample is older than this has no estimate (milliseconds).
    public static let maxSampleAgeMilliseconds: UInt64 = 60_000

    public private(set) var samples: [NodeID: [Sample]] = [:]
    /// Milliseconds this node adds to its wall clock to read the cluster's time.
    public private(set) var correction: Int64 = 0

    public init() {}

    /// The offset `t1 − (t0 + t3) / 2` of one exchange, in milliseconds.
    public static func offset(sent t0: WallClockTime, peer t1: WallClockTime, received t3: WallClockTime) -> Int64 {
        let t1 = Int64(clamping: t1.millisecondsSince1970)
        let midpoint = (Int64(clamping: t0.millisecondsSince1970) / 2) + (Int64(clamping: t3.millisecondsSince1970) / 2)
        return t1 &- midpoint
    }

    /// Takes one probe's answer from `peer`.
    public mutating func record(_ sample: Sample, from peer: NodeID) {
        var kept = samples[peer] ?? []
        if let current = Self.best(of: kept) {
            let tolerance = Int64(clamping: current.roundTrip / 2 + sample.roundTrip / 2) + Self.stepMarginMilliseconds
            if (sample.offset - current.offset).magnitude > UInt64(tolerance) { kept = [] }
        }
        kept.append(sample)
        if kept.count > Self.samplesKept { kept.removeFirst(kept.count - Self.samplesKept) }
        samples[peer] = kept
    }

    /// Disagreement beyond the round trips that still counts as the same clock (scheduling
    /// noise, millisecond rounding).
    static let stepMarginMilliseconds: Int64 = 5

    /// `peer`'s clock as this node estimates it: the sample with the shortest round trip among
    /// the recent ones, nil without a recent sample.
    public func estimate(of peer: NodeID, now: MonotonicTime) -> Sample? {
        guard let kept = samples[peer], let newest = kept.last, now.milliseconds <= newest.at.milliseconds + Self.maxSampleAgeMilliseconds
        else { return nil }
        return Self.best(of: kept)
    }

    static func best(of samples: [Sample]) -> Sample? {
        samples.min { ($0.roundTrip, $1.at) < ($1.roundTrip, $0.at) }
    }

    /// Forgets a peer (it left or was removed).
    public mutating func forget(_ peer: NodeID) { samples[peer] = nil }

    /// Recomputes `correction`: the median of 0 (this node) and the estimates of `peers` (the
    /// reachable members); the mean of the two middle values when there is an even number.
    @discardableResult
    public mutating func updateCorrection(peers: some Sequence<NodeID>, now: MonotonicTime) -> Int64 {
        var offsets: [Int64] = [0]
        for peer in peers { if let estimate = estimate(of: peer, now: now) { offsets.append(estimate.offset) } }
        offsets.sort()
        let middle = offsets.count / 2
        correction = offsets.count % 2 == 1 ? offsets[middle] : offsets[middle - 1] / 2 + offsets[middle] / 2
        return correction
    }
}
