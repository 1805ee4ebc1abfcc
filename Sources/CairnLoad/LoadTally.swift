import CairnBench

/// What a run has measured so far: latency histograms per operation kind, counts of each
/// outcome, errors by label, and the progress line's interval.
///
/// One tally is shared by every worker behind a lock: a request costs microseconds to
/// milliseconds, recording it well under one, so the lock is never the bottleneck.
struct LoadTally: Sendable {
    /// Per kind, from the intended send time (open loop) or the actual one (closed loop) to
    /// the answer: successes and the normal "not found" / "not applied" answers.
    var latency: [OperationKind: LatencyRecorder] = [:]
    /// Every answered request, from the moment it actually went out.
    var service = LatencyRecorder()
    var notFound: [OperationKind: UInt64] = [:]
    var notApplied: [OperationKind: UInt64] = [:]
    var keysListed: UInt64 = 0
    /// Per kind, errors by the transport's label.
    var errors: [OperationKind: [String: UInt64]] = [:]
    /// Requests sent (answered or not).
    var sent: UInt64 = 0

    /// Since the last progress line.
    var interval = LatencyRecorder()
    var intervalErrors: UInt64 = 0

    mutating func record(_ kind: OperationKind, _ outcome: LoadOutcome, latencyNanoseconds: UInt64, serviceNanoseconds: UInt64) {
        latency[kind, default: LatencyRecorder()].record(nanoseconds: latencyNanoseconds)
        service.record(nanoseconds: serviceNanoseconds)
        interval.record(nanoseconds: latencyNanoseconds)
        switch outcome {
        case .notFound: notFound[kind, default: 0] += 1
        case .notApplied: notApplied[kind, default: 0] += 1
        case .listed(let keys): keysListed += UInt64(keys)
        case .found, .written, .applied: break
        }
    }

    mutating func recordError(_ kind: OperationKind, label: String) {
        errors[kind, default: [:]][label, default: 0] += 1
        intervalErrors += 1
    }

    var completed: UInt64 { latency.values.reduce(0) { $0 + $1.count } }
    var errorCount: UInt64 { errors.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    /// The interval's figures, and a fresh interval.
    mutating func takeInterval() -> (latency: LatencyRecorder, errors: UInt64) {
        defer {
            interval.reset()
            intervalErrors = 0
        }
        return (interval, intervalErrors)
    }
}
