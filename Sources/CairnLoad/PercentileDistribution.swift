import CairnBench

/// A latency distribution as HdrHistogram's percentile file (`.hgrm`) gives it: steps of
/// (latency in milliseconds, percentile reached, operations counted so far), plus the footer's
/// maximum and total count. Written by `LatencyRecorder.percentileDistribution()`, read back
/// here for `cairn bench plot`; wrk2 and every HdrHistogram library write the same text.
public struct PercentileDistribution: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var milliseconds: Double
        /// 0...1, as the file writes it.
        public var percentile: Double
        public var totalCount: UInt64

        public init(milliseconds: Double, percentile: Double, totalCount: UInt64) {
            self.milliseconds = milliseconds
            self.percentile = percentile
            self.totalCount = totalCount
        }
    }

    public var steps: [Step]
    /// From `#[Max = …]`, else the last step.
    public var maxMilliseconds: Double
    /// From `#[… Total count = …]`, else the last step's.
    public var totalCount: UInt64

    public init(steps: [Step], maxMilliseconds: Double, totalCount: UInt64) {
        self.steps = steps
        self.maxMilliseconds = maxMilliseconds
        self.totalCount = totalCount
    }

    /// The distribution of what `recorder` holds.
    public init(_ recorder: LatencyRecorder) {
        steps = recorder.percentileSteps().map { Step(milliseconds: Double($0.nanoseconds) / 1e6, percentile: $0.percentile / 100,
                                                      totalCount: $0.totalCount) }
        maxMilliseconds = recorder.maxMicroseconds / 1000
        totalCount = recorder.count
    }

    /// Why a file is not a percentile distribution.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads `.hgrm` text: the header, step lines of three or four numbers
    /// (`Value Percentile TotalCount [1/(1-Percentile)]`) and `#[…]` footers; blank lines and
    /// other `#` lines are skipped. At most 1,000,000 steps.
    public init(parsing text: String) throws(ParseError) {
        var steps: [Step] = []
        var maxMilliseconds: Double?
        var totalCount: UInt64?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmed(of: " \t\r")
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if let value = Self.footerValue(line, after: "Max") { maxMilliseconds = value }
                if let value = Self.footerValue(line, after: "Total count") { totalCount = UInt64(exactly: value.rounded()) }
                continue
            }
            if line.hasPrefix("Value") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            guard (3...4).contains(fields.count), let value = Double(fields[0]), let percentile = Double(fields[1]),
                let count = UInt64(fields[2]), value.isFinite, value >= 0, (0...1).contains(percentile)
            else {
                throw ParseError(line: offset + 1, message: "expected 'Value Percentile TotalCount [1/(1-Percentile)]', got '\(line.prefix(80))'")
            }
            guard steps.count < 1_000_000 else { throw ParseError(line: offset + 1, message: "more than 1,000,000 steps") }
            steps.append(Step(milliseconds: value, percentile: percentile, totalCount: count))
        }
        guard !steps.isEmpty else { throw ParseError(line: 0, message: "no percentile lines") }
        self.steps = steps
        self.maxMilliseconds = maxMilliseconds ?? steps.last!.milliseconds
        self.totalCount = totalCount ?? steps.last!.totalCount
    }

    /// The latency at `percentile` (0...1): the first step reaching it.
    public func milliseconds(atPercentile percentile: Double) -> Double {
        steps.first(where: { $0.percentile >= percentile })?.milliseconds ?? maxMilliseconds
    }

    /// `#[Max     =        1.233, Total count    =       100000]` → 1.233 for "Max".
    private static func footerValue(_ line: String, after name: String) -> Double? {
        guard let range = line.range(of: name) else { return nil }
        let rest = line[range.upperBound...].drop(while: { $0 == " " || $0 == "=" })
        return Double(rest.prefix(while: { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" || $0 == "+" }))
    }
}

extension StringProtocol {
    func trimmed(of set: String) -> String {
        let scalars = Set(set)
        return String(drop(while: { scalars.contains($0) }).reversed().drop(while: { scalars.contains($0) }).reversed())
    }
}
