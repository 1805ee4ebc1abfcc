import Histogram

/// Per-operation latencies of one worker, in nanoseconds, kept in an HdrHistogram.
///
/// Three significant digits from 1 ns to 120 s; each worker owns one and the runner merges
/// them afterwards, so recording never takes a lock.
public struct LatencyRecorder: Sendable {
    public static let highestNanoseconds: UInt64 = 120_000_000_000
    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: LatencyRecorder.highestNanoseconds,
        numberOfSignificantValueDigits: .three
    )

    @inline(__always)
    public init() {}

    public mutating func record(nanoseconds: UInt64) {
        histogram.record(Swift.min(Swift.max(nanoseconds, 1), LatencyRecorder.highestNanoseconds))
    }

    public mutating func merge(_ other: LatencyRecorder) { histogram.add(other.histogram) }

    public var count: UInt64 { histogram.totalCount }

    /// Forgets every recorded latency, keeping the configuration (a progress line's interval).
    public mutating func reset() { histogram.reset() }

    /// The latency at `percentile` (0...100) in microseconds.
    public func microseconds(atPercentile percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}
