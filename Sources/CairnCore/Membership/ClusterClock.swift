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
    /// An offset larger than this (a day) is not a clock to follow but a broken one (or a peer
    /// lying): the sample is dropped.
    public static let maxOffsetMilliseconds: Int64 = 86_400_000
    /// A peer whose newest sample is older than this has no estimate (milliseconds).
    public static let maxSampleAgeMilliseconds: UInt64 = 60_000

    public private(set) var samples: [NodeID: [Sample]] = [:]
    /// Peers whose last answer was over a day off (dropped): when they are most of the members,
    /// it is this machine's clock that is wrong beyond correcting.
    public private(set) var outOfRange: Set<NodeID> = []
    /// Milliseconds this node adds to its wall clock to read the cluster's time.
    public private(set) var correction: Int64 = 0

    public init() {}

    /// The offset `t1 − (t0 + t3) / 2` of one exchange, in milliseconds.
    public static func offset(sent t0: WallClockTime, peer t1: WallClockTime, received t3: WallClockTime) -> Int64 {
        let t1 = Int64(clamping: t1.millisecondsSince1970)
        let midpoint = (Int64(clamping: t0.millisecondsSince1970) / 2) + (Int64(clamping: t3.millisecondsSince1970) / 2)
        // Both are at most Int64.max: the difference cannot overflow past ±Int64.max.
        return t1 - midpoint
    }

    /// Takes one probe's answer from `peer`; returns false for an offset past
    /// ``maxOffsetMilliseconds``, which is dropped.
    @discardableResult
    public mutating func record(_ sample: Sample, from peer: NodeID) -> Bool {
        guard sample.offset.magnitude <= UInt64(Self.maxOffsetMilliseconds) else {
            outOfRange.insert(peer)
            return false
        }
        outOfRange.remove(peer)
        var kept = samples[peer] ?? []
        if let current = Self.best(of: kept) {
            // Both offsets are within a day: no overflow.
            let tolerance = current.roundTrip / 2 + sample.roundTrip / 2 + UInt64(Self.stepMarginMilliseconds)
            if (sample.offset - current.offset).magnitude > tolerance { kept = [] }
        }
        kept.append(sample)
        if kept.count > Self.samplesKept { kept.removeFirst(kept.count - Self.samplesKept) }
        samples[peer] = kept
        return true
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
    public mutating func forget(_ peer: NodeID) {
        samples[peer] = nil
        outOfRange.remove(peer)
    }

    /// Recomputes `correction`: the median of 0 (this node) and the estimates of `peers` (the
    /// reachable members), when those clocks are a majority of the `members` (live members,
    /// this node included); else the correction stays as it was (a node cut off from most of
    /// the cluster keeps following the clock it last measured). With an even number of clocks
    /// any value between the two middle ones is a median: the correction moves only as far as
    /// needed to lie between them, so two clocks that disagree drag neither node half way — a
    /// healthy node stays put, and a node already corrected keeps its correction when one of
    /// the clocks it agreed with goes out of reach.
    @discardableResult
    public mutating func updateCorrection(peers: some Sequence<NodeID>, members: Int, now: MonotonicTime) -> Int64 {
        var offsets: [Int64] = [0]
        for peer in peers { if let estimate = estimate(of: peer, now: now) { offsets.append(estimate.offset) } }
        guard offsets.count >= members / 2 + 1 else { return correction }
        offsets.sort()
        let middle = offsets.count / 2
        if offsets.count % 2 == 1 {
            correction = offsets[middle]
        } else {
            correction = min(max(correction, offsets[middle - 1]), offsets[middle])
        }
        return correction
    }
}
