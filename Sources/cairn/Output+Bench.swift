import CairnBench
import CairnHTTP

extension Output {
    /// A latency distribution for `bench ... --json`: `{"count", "p50_ms", "p90_ms", "p99_ms",
    /// "max_ms"}`, milliseconds to the microsecond (the recorder's own resolution), and the
    /// `extra` members.
    static func latencyJSON(_ recorder: LatencyRecorder, adding extra: [String: JSONValue] = [:]) -> JSONValue {
        func milliseconds(_ percentile: Double) -> JSONValue {
            .number((recorder.microseconds(atPercentile: percentile)).rounded() / 1000)
        }
        let members: [String: JSONValue] = [
            "count": .integer(Int64(clamping: recorder.count)),
            "p50_ms": milliseconds(50), "p90_ms": milliseconds(90), "p99_ms": milliseconds(99), "max_ms": milliseconds(100),
        ]
        return .object(members.merging(extra) { measured, _ in measured })
    }
}
