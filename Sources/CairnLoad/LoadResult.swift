import CairnBench

/// What a run measured.
public struct LoadResult: Sendable {
    public var plan: LoadPlan
    public var transportName: String
    /// From the start to the last answer.
    public var elapsed: Duration
    var tally: LoadTally
    /// Open loop: the operations the schedule called for (within the duration, or the count).
    public var scheduled: UInt64?

    init(plan: LoadPlan, transportName: String, elapsed: Duration, tally: LoadTally, scheduled: UInt64?) {
        self.plan = plan
        self.transportName = transportName
        self.elapsed = elapsed
        self.tally = tally
        self.scheduled = scheduled
    }

    /// The kinds the report has a row for, in the workload's order.
    public var kinds: [OperationKind] { plan.workload.operations }

    /// Latency of one kind's answered requests.
    public func latency(_ kind: OperationKind) -> LatencyRecorder { tally.latency[kind] ?? LatencyRecorder() }

    /// Latency of every answered request.
    public var latency: LatencyRecorder {
        tally.latency.values.reduce(into: LatencyRecorder()) { $0.merge($1) }
    }

    /// Every answered request from its actual send: the same as `latency` in a closed loop; in
    /// an open loop, the part of the latency the server and the network account for.
    public var serviceTime: LatencyRecorder { tally.service }

    public var completed: UInt64 { tally.completed }
    public func completed(_ kind: OperationKind) -> UInt64 { latency(kind).count }
    public func notFound(_ kind: OperationKind) -> UInt64 { tally.notFound[kind] ?? 0 }
    public func notApplied(_ kind: OperationKind) -> UInt64 { tally.notApplied[kind] ?? 0 }
    public var keysListed: UInt64 { tally.keysListed }
    public func errors(_ kind: OperationKind) -> [String: UInt64] { tally.errors[kind] ?? [:] }
    public var errorCount: UInt64 { tally.errorCount }

    /// Every error label with its count, all kinds together, most frequent first.
    public var errorsByLabel: [(label: String, count: UInt64)] {
        var merged: [String: UInt64] = [:]
        for perKind in tally.errors.values {
            for (label, count) in perKind { merged[label, default: 0] += count }
        }
        return merged.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.label < $1.label }
    }

    /// Open loop: operations due before the end that were never sent, every worker being busy
    /// until the duration ran out. Their latency is in no figure, which therefore understates.
    public var unsent: UInt64 {
        guard let scheduled else { return 0 }
        return scheduled > tally.sent ? scheduled - tally.sent : 0
    }

    /// Answered operations per second over the run.
    public func operationsPerSecond(_ count: UInt64) -> Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(count) / seconds : 0
    }
}
