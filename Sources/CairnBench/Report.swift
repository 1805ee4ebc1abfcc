import Foundation

/// Renders rows as an aligned text table or as a JSON array.
public enum Report {
    /// Pretty-printed JSON array of rows with snake_case keys (`ops_per_sec`, `p99_us`, ...).
    public static func json(_ rows: [BenchRow]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rows), as: UTF8.self)
    }

    /// A fixed-width table, one row per line, with the Cairn-only figures in the last column.
    public static func table(_ rows: [BenchRow]) -> String {
        let header = ["engine", "workload", "thr", "value", "ops", "ops/s", "p50 us", "p99 us", "extra", "settings"]
        let body = rows.map { row in
            [row.engine, row.workload, "\(row.threads)", "\(row.valueBytes)", "\(row.ops)",
             format(row.opsPerSec, decimals: 0), format(row.p50Microseconds, decimals: 1),
             format(row.p99Microseconds, decimals: 1), extra(row), row.settings]
        }
        let all = [header] + body
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let numeric: Set<Int> = [2, 3, 4, 5, 6, 7]
        let lines = all.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([lines[0], rule] + lines.dropFirst()).joined(separator: "\n")
    }

    static func extra(_ row: BenchRow) -> String {
        var parts: [String] = []
        if let keys = row.keys { parts.append("keys=\(keys)") }
        if let value = row.keydirBytesPerKey { parts.append("keydir=\(format(value, decimals: 1))B/key") }
        if let value = row.rssBytesPerKey { parts.append("rss=\(format(value, decimals: 1))B/key") }
        if let value = row.rssAnonBytesPerKey { parts.append("rss-anon=\(format(value, decimals: 1))B/key") }
        if let value = row.writesPerSync { parts.append("writes/fsync=\(format(value, decimals: 1))") }
        if let value = row.fsyncMicroseconds { parts.append("fsync=\(format(value, decimals: 0))us") }
        if let value = row.gatherMicroseconds, value > 0 { parts.append("gather=\(format(value, decimals: 0))us") }
        if let value = row.openMilliseconds { parts.append("open=\(format(value, decimals: 1))ms") }
        if let hints = row.hintFilesLoaded, let scanned = row.dataFilesScanned {
            parts.append("hints=\(hints) scanned=\(scanned)")
        }
        if let value = row.megabytesPerSecond { parts.append("\(format(value, decimals: 1))MB/s") }
        if let value = row.bytesReclaimed { parts.append("reclaimed=\(format(Double(value) / 1e6, decimals: 1))MB") }
        return parts.joined(separator: " ")
    }

    static func format(_ value: Double, decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        String(reversed().drop(while: { $0 == " " }).reversed())
    }
}
