/// The φ accrual failure detector (Hayashibara, Défago, Yared, Katayama, "The φ Accrual Failure
/// Detector", SRDS 2004), in the form Akka's `PhiAccrualFailureDetector` and Cassandra use.
///
/// Instead of a yes/no timeout it keeps the recent intervals between heartbeat arrivals from
/// each monitored node and reports φ = −log10 P(a heartbeat arrives later than now), taking the
/// intervals as normally distributed (mean + an acceptable pause, standard deviation at least
/// a floor). φ = 1 means about a 10 % chance that the silence is normal, φ = 8 one in 10⁸. A
/// node is reachable while φ < `threshold`. Because the distribution is learnt, steady jitter
/// widens it and is tolerated, while a node that stops answering crosses the threshold a few
/// deviations after `mean + acceptablePause`.
///
/// Why φ accrual and not SWIM: Cairn wants each node's *own* opinion of whom it can reach
/// (DESIGN.md §3) to steer its sloppy quorums and hint delivery; direct heartbeats measure
/// exactly that, where SWIM's indirect probes answer "is it alive to someone" and disseminate a
/// group verdict Cairn does not need (liveness never changes ownership). Clusters are small
/// (tens of nodes), so all-to-all heartbeats of a few dozen bytes a second are cheap, and φ
/// adapts to a slow or jittery network without retuning a timeout.
///
/// Pure: the caller passes the time of every arrival and question (milliseconds of a monotonic
/// clock). Monitoring starts with a pseudo-arrival at `monitor` time, so a node that never
/// answers is suspected too (Akka would consider it available until a first heartbeat).
public struct PhiAccrualDetector: Sendable, Hashable {
    /// The detector's parameters; defaults are Akka's cluster defaults with a smaller history.
    public struct Settings: Sendable, Hashable {
        /// φ at or above which a node is considered unreachable (Akka and Cassandra: 8).
        public var threshold: Double
        /// Intervals kept per node (bounded memory).
        public var maxSampleSize: Int
        /// Floor of the standard deviation, so perfectly regular heartbeats do not make the
        /// detector hair-triggered.
        public var minStandardDeviationMilliseconds: Double
        /// Silence tolerated on top of the mean interval (GC pauses, a busy event loop).
        public var acceptableHeartbeatPauseMilliseconds: Double
        /// The interval assumed before any real sample (the heartbeat interval).
        public var firstHeartbeatEstimateMilliseconds: Double

        public init(
            threshold: Double = 8,
            maxSampleSize: Int = 200,
            minStandardDeviationMilliseconds: Double = 100,
            acceptableHeartbeatPauseMilliseconds: Double = 3_000,
            firstHeartbeatEstimateMilliseconds: Double = 1_000
        ) {
            precondition(threshold > 0 && maxSampleSize >= 2 && minStandardDeviationMilliseconds > 0
                && acceptableHeartbeatPauseMilliseconds >= 0 && firstHeartbeatEstimateMilliseconds > 0,
                "detector settings \(threshold) \(maxSampleSize) \(minStandardDeviationMilliseconds) \(acceptableHeartbeatPauseMilliseconds) \(firstHeartbeatEstimateMilliseconds)")
            self.threshold = threshold
            self.maxSampleSize = maxSampleSize
            self.minStandardDeviationMilliseconds = minStandardDeviationMilliseconds
            self.acceptableHeartbeatPauseMilliseconds = acceptableHeartbeatPauseMilliseconds
            self.firstHeartbeatEstimateMilliseconds = firstHeartbeatEstimateMilliseconds
        }
    }

    /// The arrival history of one node: a bounded window of intervals with running sums.
    struct History: Sendable, Hashable {
        var intervals: [Double] = []
        var next = 0
        var sum = 0.0
        var sumOfSquares = 0.0
        var lastArrival: MonotonicTime

        mutating func add(_ interval: Double, capacity: Int) {
            if intervals.count < capacity {
                intervals.append(interval)
            } else {
                let old = intervals[next]
                sum -= old
                sumOfSquares -= old * old
                intervals[next] = interval
                next = (next + 1) % capacity
            }
            sum += interval
            sumOfSquares += interval * interval
        }

        var mean: Double { sum / Double(intervals.count) }
        var variance: Double { max(0, sumOfSquares / Double(intervals.count) - mean * mean) }
    }

    public let settings: Settings
    private var histories: [NodeID: History] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// The nodes being monitored.
    public var monitored: Set<NodeID> { Set(histories.keys) }

    /// Starts monitoring `node` (no-op if it already is), counting `now` as its first arrival.
    ///
    /// The history starts with two intervals of `estimate ± estimate/4`, as Akka does, so φ is
    /// defined from the start and a node that never answers is suspected after about
    /// `estimate + acceptablePause` plus a few deviations.
    public mutating func monitor(_ node: NodeID, now: MonotonicTime) {
        guard histories[node] == nil else { return }
        let estimate = settings.firstHeartbeatEstimateMilliseconds
        var history = History(lastArrival: now)
        history.add(estimate - estimate / 4, capacity: settings.maxSampleSize)
        history.add(estimate + estimate / 4, capacity: settings.maxSampleSize)
        histories[node] = history
    }

    /// Stops monitoring `node` and forgets its history.
    public mutating func unmonitor(_ node: NodeID) { histories[node] = nil }

    /// A heartbeat (reply) from `node` arrived at `now`. Ignored for nodes not monitored.
    ///
    /// The interval is sampled only if the node was reachable just before it: the first
    /// arrival after an outage would otherwise add one huge interval and blunt detection of the
    /// next outage (Akka does the same). The arrival itself always resets the silence, which is
    /// what clears suspicion.
    public mutating func heartbeat(from node: NodeID, now: MonotonicTime) {
        guard var history = histories[node] else { return }
        guard now >= history.lastArrival else { return }
        let interval = Double(now.milliseconds(since: history.lastArrival))
        if phi(history, now: now) < settings.threshold {
            history.add(interval, capacity: settings.maxSampleSize)
        }
        history.lastArrival = now
        histories[node] = history
    }

    /// φ for `node` at `now`; `nil` if it is not monitored.
    public func phi(_ node: NodeID, now: MonotonicTime) -> Double? {
        histories[node].map { phi($0, now: now) }
    }

    /// Whether this node currently considers `node` reachable: φ below the threshold. A node
    /// not monitored (unknown, or a tombstone) is not reachable.
    public func isReachable(_ node: NodeID, now: MonotonicTime) -> Bool {
        guard let phi = phi(node, now: now) else { return false }
        return phi < settings.threshold
    }

    private func phi(_ history: History, now: MonotonicTime) -> Double {
        let elapsed = Double(now.milliseconds(since: history.lastArrival))
        let mean = history.mean + settings.acceptableHeartbeatPauseMilliseconds
        let deviation = max(history.variance.squareRoot(), settings.minStandardDeviationMilliseconds)
        return Self.phi(elapsedMilliseconds: elapsed, meanMilliseconds: mean, standardDeviationMilliseconds: deviation)
    }

    /// φ = −log10 P(X > elapsed) for X normal(mean, deviation), with the normal CDF replaced by
    /// the logistic approximation Akka uses, Φ(y) ≈ 1 / (1 + e^(−y(1.5976 + 0.070566 y²))), whose
    /// error is below 1.4·10⁻⁴. Then P(X > elapsed) = 1 / (1 + e^z) and φ = log10(1 + e^z).
    public static func phi(elapsedMilliseconds: Double, meanMilliseconds: Double, standardDeviationMilliseconds: Double) -> Double {
        let y = (elapsedMilliseconds - meanMilliseconds) / standardDeviationMilliseconds
        let z = y * (1.5976 + 0.070566 * y * y)
        // For large z, log10(1 + e^z) = z / ln 10 to double precision (and e^z would overflow).
        if z > 40 { return z / PhiMath.ln10 }
        return PhiMath.log10(1 + PhiMath.exp(z))
    }
}
