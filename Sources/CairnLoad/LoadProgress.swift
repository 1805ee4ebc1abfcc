/// One progress line of a running load: the last interval's rate and latency, the totals, and
/// for an open-loop run how far the generator is behind its schedule.
public struct LoadProgress: Sendable, Hashable {
    public var elapsedSeconds: Double
    public var intervalSeconds: Double
    /// Answered in the interval.
    public var intervalOperations: UInt64
    /// The interval's latency percentiles, milliseconds.
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var maxMilliseconds: Double
    public var intervalErrors: UInt64
    public var completed: UInt64
    public var errors: UInt64
    /// Open loop: operations due by now that no worker has sent yet (all workers busy).
    public var backlog: UInt64?

    /// `  3 s   2,481 ops/s  p50 1.204 ms  p99 4.812 ms  max 9.001 ms  done 7,402  errors 0  backlog 0`
    public var line: String {
        let rate = intervalSeconds > 0 ? Double(intervalOperations) / intervalSeconds : 0
        var text = LoadReport.pad(LoadReport.fixed(elapsedSeconds, 0) + " s", 6)
            + LoadReport.pad(LoadReport.grouped(rate), 10) + " ops/s"
            + "  p50 " + LoadReport.fixed(p50Milliseconds, 3) + " ms"
            + "  p99 " + LoadReport.fixed(p99Milliseconds, 3) + " ms"
            + "  max " + LoadReport.fixed(maxMilliseconds, 3) + " ms"
            + "  done " + LoadReport.grouped(Double(completed))
            + "  errors " + LoadReport.grouped(Double(errors))
        if let backlog { text += "  backlog " + LoadReport.grouped(Double(backlog)) }
        return text
    }
}
