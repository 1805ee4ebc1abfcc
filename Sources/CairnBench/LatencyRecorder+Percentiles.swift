import Histogram

extension LatencyRecorder {
    /// Standard `.hgrm` text: HdrHistogram's percentile distribution, values in milliseconds.
    ///
    /// The format every HdrHistogram implementation writes (`outputPercentileDistribution` in the
    /// Java original, wrk2's `--latency` output): a header, one line per percentile step
    /// (`Value Percentile TotalCount 1/(1-Percentile)`), `percentileTicksPerHalfDistance` steps
    /// per halving of the distance to 100 %, then `#[Mean …]`, `#[Max …]` and `#[Buckets …]`
    /// footers. HdrHistogram's plotter (HistogramLogAnalyzer, `plotFiles.html`) and
    /// `cairn bench plot` read it.
    public func percentileDistribution(percentileTicksPerHalfDistance ticks: Int = 5) -> String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000_000, percentileTicksPerHalfDistance: ticks)
        return text
    }

    /// The steps of the percentile distribution (what `percentileDistribution` prints), as
    /// numbers: each step's latency in nanoseconds, the percentile it reaches (0...100) and the
    /// count of operations at or below it.
    public func percentileSteps(percentileTicksPerHalfDistance ticks: Int = 5)
        -> [(nanoseconds: UInt64, percentile: Double, totalCount: UInt64)]
    {
        histogram.percentiles(ticksPerHalfDistance: ticks).map { step in
            (step.value, step.percentileLevelIteratedTo, step.totalCountToThisValue)
        }
    }

    /// The largest latency recorded, in microseconds (0 when empty): the value itself, not the
    /// top of its bucket as the value at percentile 100 is.
    public var maxMicroseconds: Double { count == 0 ? 0 : Double(histogram.maxRecorded) / 1000 }

    /// The mean latency in microseconds (0 when empty).
    public var meanMicroseconds: Double { count == 0 ? 0 : histogram.mean / 1000 }
}
