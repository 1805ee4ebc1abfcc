import CairnBench
import CairnHTTP

extension Output {
    /// A latency distribution for `bench ... --json`: `{"count", "p50_ms", "p90_ms", "p99_ms",
    /// "max_ms"}`, milliseconds as the text tables print them, and the `extra` members.
    static func latencyJSON(_ recorder: LatencyRecorder, adding extra: [String: JSONValue] = [:]) -> JSONValue {
        let members: [String: JSONValue] = [
            "count": .integer(Int64(clamping: recorder.count)),
            "p50_ms": .number(recorder.microseconds(atPercentile: 50) / 1000),
            "p90_ms": .number(recorder.microseconds(atPercentile: 90) / 1000),
            "p99_ms": .number(recorder.microseconds(atPercentile: 99) / 1000),
            "max_ms": .number(recorder.microseconds(atPercentile: 100) / 1000),
        ]
        return .object(members.merging(extra) { measured, _ in measured })
    }
}
