import CairnBench
import CairnHTTP
import Foundation

/// The final report of a run: a table for people, a JSON document for scripts.
public enum LoadReport {
    /// The percentiles every report gives, with their names in the table and in JSON.
    static let percentiles: [(percentile: Double, column: String, json: String)] = [
        (50, "p50", "p50_ms"), (90, "p90", "p90_ms"), (99, "p99", "p99_ms"), (99.9, "p99.9", "p99_9_ms"),
    ]

    /// The header lines, one row per operation kind and one for all (when there are several),
    /// then the outcome and error lines. Latencies in milliseconds.
    public static func table(_ result: LoadResult, preload: Duration? = nil) -> String {
        let plan = result.plan
        let workload = plan.workload
        var lines: [String] = []
        lines.append("cairn bench load: \(workload.summary), \(grouped(Double(workload.keyCount))) keys \(workload.distribution), "
            + "\(workload.valueBytes)-byte values")
        let nodes = plan.nodes.map(\.description).joined(separator: ",")
        var how = "\(result.transportName) to \(nodes), \(plan.concurrency) connection\(plan.concurrency == 1 ? "" : "s"), "
        if let rate = plan.rate {
            how += "open loop at \(grouped(Double(rate))) ops/s (latency from each operation's due time)"
        } else {
            how += "closed loop (latency from each send)"
        }
        lines.append(how + String(format: ", %.1f s", result.elapsed.seconds))
        if let preload {
            lines.append(String(format: "preloaded %@ keys in %.1f s", grouped(Double(workload.keyCount)), preload.seconds))
        }
        var rows: [[String]] = [["op", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors"]]
        func row(_ name: String, _ recorder: LatencyRecorder, errors: UInt64) -> [String] {
            [name, grouped(Double(recorder.count)), grouped(result.operationsPerSecond(recorder.count))]
                + percentiles.map { fixed(recorder.microseconds(atPercentile: $0.percentile) / 1000, 3) }
                + [fixed(recorder.maxMicroseconds / 1000, 3), grouped(Double(errors))]
        }
        for kind in result.kinds {
            rows.append(row(kind.rawValue, result.latency(kind), errors: result.errors(kind).values.reduce(0, +)))
        }
        if result.kinds.count > 1 { rows.append(row("all", result.latency, errors: result.errorCount)) }
        if plan.rate != nil { rows.append(row("service", result.serviceTime, errors: result.errorCount)) }
        lines.append(contentsOf: aligned(rows))
        if plan.rate != nil {
            lines.append("service: the same requests timed from their actual send (what a closed-loop tool would report)")
        }
        var outcomes: [String] = []
        for kind in result.kinds {
            if kind == .get { outcomes.append("get: \(grouped(Double(result.notFound(.get)))) not found") }
            if kind == .cas {
                let notApplied = result.notApplied(.cas)
                outcomes.append("cas: \(grouped(Double(result.completed(.cas) - notApplied))) applied, "
                    + "\(grouped(Double(notApplied))) not applied (another worker won the race)")
            }
            if kind == .scan {
                outcomes.append(String(format: "scan: %@ keys listed (%@ keys/s)", grouped(Double(result.keysListed)),
                                       grouped(result.operationsPerSecond(result.keysListed))))
            }
        }
        if !outcomes.isEmpty { lines.append(outcomes.joined(separator: "; ")) }
        if result.errorCount > 0 {
            lines.append("errors (not in the latency figures): "
                + result.errorsByLabel.map { "\($0.label) \(grouped(Double($0.count)))" }.joined(separator: ", "))
        }
        if result.unsent > 0 {
            lines.append("warning: \(grouped(Double(result.unsent))) of the \(grouped(Double(result.scheduled ?? 0))) operations due were "
                + "never sent (every connection busy until the end): the target rate was not reached, and the latency figures "
                + "leave out those operations; use more connections or a lower rate")
        }
        return lines.joined(separator: "\n")
    }

    /// `{"workload", "transport", "nodes", …, "latency": {…}, "service_time": {…},
    /// "operations": [{"op", "count", "ops_per_second", "p50_ms", …}], "errors": {label: n}}`.
    public static func json(_ result: LoadResult, preload: Duration? = nil) -> JSONValue {
        let plan = result.plan
        let workload = plan.workload
        var document: [String: JSONValue] = [
            "workload": .string(workload.kind.rawValue),
            "transport": .string(result.transportName),
            "nodes": .array(plan.nodes.map { .string($0.description) }),
            "keys": .integer(Int64(workload.keyCount)),
            "value_bytes": .integer(Int64(workload.valueBytes)),
            "distribution": .string(workload.distribution.name),
            "concurrency": .integer(Int64(plan.concurrency)),
            "seed": .integer(Int64(clamping: plan.seed)),
            "open_loop": .bool(plan.rate != nil),
            "target_rate": plan.rate.map { .integer(Int64(clamping: $0)) } ?? .null,
            "seconds": .number(rounded(result.elapsed.seconds, 3)),
            "completed": .integer(Int64(clamping: result.completed)),
            "ops_per_second": .number(rounded(result.operationsPerSecond(result.completed), 1)),
            "latency": latencyJSON(result.latency),
            "service_time": latencyJSON(result.serviceTime),
            "operations": .array(result.kinds.map { kind in
                var members = latencyJSON(result.latency(kind), adding: [
                    "op": .string(kind.rawValue),
                    "ops_per_second": .number(rounded(result.operationsPerSecond(result.completed(kind)), 1)),
                    "errors": .integer(Int64(clamping: result.errors(kind).values.reduce(0, +))),
                ])
                if kind == .get, case .object(var object) = members {
                    object["not_found"] = .integer(Int64(clamping: result.notFound(.get)))
                    members = .object(object)
                }
                if kind == .cas, case .object(var object) = members {
                    object["not_applied"] = .integer(Int64(clamping: result.notApplied(.cas)))
                    members = .object(object)
                }
                if kind == .scan, case .object(var object) = members {
                    object["keys_listed"] = .integer(Int64(clamping: result.keysListed))
                    members = .object(object)
                }
                return members
            }),
            "errors": .object(Dictionary(uniqueKeysWithValues: result.errorsByLabel.map { ($0.label, .integer(Int64(clamping: $0.count))) })),
            "unsent": .integer(Int64(clamping: result.unsent)),
        ]
        if case .zipfian(let exponent) = workload.distribution { document["zipf_exponent"] = .number(exponent) }
        if workload.kind == .mixed { document["get_percent"] = .integer(Int64(workload.getPercent)) }
        if workload.kind == .scan { document["scan_limit"] = .integer(Int64(workload.scanLimit)) }
        if let preload { document["preload_seconds"] = .number(rounded(preload.seconds, 3)) }
        return .object(document)
    }

    /// `{"count", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms", "mean_ms"}`, to the
    /// microsecond.
    public static func latencyJSON(_ recorder: LatencyRecorder, adding extra: [String: JSONValue] = [:]) -> JSONValue {
        var members: [String: JSONValue] = ["count": .integer(Int64(clamping: recorder.count))]
        for (percentile, _, name) in percentiles {
            members[name] = .number(rounded(recorder.microseconds(atPercentile: percentile) / 1000, 3))
        }
        members["max_ms"] = .number(rounded(recorder.maxMicroseconds / 1000, 3))
        members["mean_ms"] = .number(rounded(recorder.meanMicroseconds / 1000, 3))
        return .object(members.merging(extra) { measured, _ in measured })
    }

    /// The plot of a run: one line per operation kind (and all, when there are several), and
    /// for an open loop the service time, which shows how much of the latency was waiting.
    public static func plot(_ result: LoadResult) -> PercentilePlot {
        var series = result.kinds.map { PercentilePlot.Series(name: $0.rawValue, distribution: PercentileDistribution(result.latency($0))) }
        if result.kinds.count > 1 { series.append(.init(name: "all", distribution: PercentileDistribution(result.latency))) }
        let plan = result.plan
        if plan.rate != nil {
            series.append(.init(name: "service time (from the actual send)", distribution: PercentileDistribution(result.serviceTime)))
        }
        let loop = plan.rate.map { "open loop at \(grouped(Double($0))) ops/s" } ?? "closed loop"
        let title = "cairn bench load: \(plan.workload.summary), \(result.transportName), \(plan.concurrency) connections, \(loop)"
        return PercentilePlot(title: title, series: series)
    }

    // MARK: Formatting

    /// `12,345` (no decimals; thousands grouped with commas, whatever the locale).
    public static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let whole = Int64(value.rounded())
        let digits = String(whole.magnitude)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return whole < 0 ? "-" + text : text
    }

    /// `value` with `decimals` decimals.
    static func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    static func rounded(_ value: Double, _ decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return (value * scale).rounded() / scale
    }

    /// Right-aligned to `width`.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Rows as columns: the first column left-aligned, the others right-aligned.
    static func aligned(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { cells in
            cells.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) : pad(cell, widths[column])
            }.joined(separator: "  ")
        }
    }
}
