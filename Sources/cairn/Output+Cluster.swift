import CairnClient
import CairnHTTP

extension Output {
    /// `cairn cluster status`: the answering node, the ring summary, the node's warnings (such
    /// as replication below N, with what to do), a table of members (status, reachability as
    /// that node sees it, partitions owned), the transfers, and any other member of the
    /// document as `name: json`, so nothing the node reports is hidden.
    ///
    /// ```
    /// cluster as seen by n1 (127.0.0.1:7080)
    /// ring: version=7 partitions=64 n=3
    /// warning: replication is below N: …
    ///
    /// NODE  ADDRESS         STATUS  REACHABLE  PARTITIONS
    /// n1 *  127.0.0.1:7080  valid   yes        22
    /// n2    127.0.0.1:7081  valid   no         21
    ///
    /// transfers: none
    /// ```
    static func clusterStatus(_ status: ClusterStatus, via node: String) -> String {
        var lines = ["cluster as seen by \(status.node ?? "the node") (\(node))"]
        if !status.ring.isEmpty {
            lines.append("ring: " + pairs(status.ring, first: ["version", "partitions", "n"]))
        }
        if case .array(let warnings)? = status.json["warnings"] {
            for warning in warnings {
                if case .string(let text) = warning {
                    lines.append("warning: " + oneLine(Array(text.utf8)))
                } else {
                    lines.append("warning: " + render(warning))
                }
            }
        }
        lines.append("")
        if status.members.isEmpty {
            lines.append("members: none reported")
        } else {
            var rows = [["NODE", "ADDRESS", "STATUS", "REACHABLE", "PARTITIONS"]]
            let hasExtra = status.members.contains { !$0.extra.isEmpty }
            if hasExtra { rows[0].append("OTHER") }
            for member in status.members {
                let isAnswering = member.node != nil && member.node == status.node
                var row = [
                    (member.node ?? "-") + (isAnswering ? " *" : ""),
                    member.address ?? "-",
                    member.status ?? "-",
                    member.reachable.map { $0 ? "yes" : "no" } ?? "-",
                    member.partitions.map(String.init) ?? "-",
                ]
                if hasExtra { row.append(pairs(member.extra)) }
                rows.append(row)
            }
            lines += table(rows)
        }
        lines.append("")
        if status.transfers.isEmpty {
            lines.append("transfers: none")
        } else {
            lines.append("transfers (\(status.transfers.count)):")
            for transfer in status.transfers {
                if case .object(let members) = transfer {
                    lines.append("  " + pairs(members, first: ["partition", "from", "to", "state"]))
                } else {
                    lines.append("  " + render(transfer))
                }
            }
        }
        if case .object(let top) = status.json {
            let known: Set<String> = ["node", "members", "ring", "transfers", "warnings"]
            for name in top.keys.sorted() where !known.contains(name) {
                lines.append("\(name): \(render(top[name]!))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `handoff: running, 8 MiB/s per transfer` (or `paused`) from the node's `handoff` member.
    static func handoff(_ value: JSONValue?) -> String {
        guard case .object(let handoff)? = value, case .bool(let paused)? = handoff["paused"],
              case .integer(let rate)? = handoff["bytes_per_second"] else { return "handoff: -" }
        let rateText = rate % (1 << 20) == 0 ? "\(rate >> 20) MiB/s" : rate % 1024 == 0 ? "\(rate >> 10) KiB/s" : "\(rate) B/s"
        return "handoff: \(paused ? "paused" : "running"), \(rateText) per transfer"
    }

    /// `cluster leave` and `cluster remove` with `--json`: the API's `{"ok": true}`, the node as
    /// the command named it, and the status the change gives it.
    static func membershipJSON(node: String, status: String) -> String {
        render(["ok": true, "node": .string(node), "status": .string(status)])
    }

    /// `name=value` pairs, the names in `first` first (in that order), then the rest by name;
    /// strings bare, anything else as compact JSON.
    static func pairs(_ members: [String: JSONValue], first: [String] = []) -> String {
        let rest = members.keys.filter { !first.contains($0) }.sorted()
        return (first.filter { members[$0] != nil } + rest).map { name in
            let value = members[name]!
            if case .string(let text) = value { return "\(name)=\(oneLine(Array(text.utf8)))" }
            return "\(name)=\(render(value))"
        }.joined(separator: " ")
    }

    /// Rows padded into left-aligned columns two spaces apart, without trailing spaces.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
