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

    /// `cairn cluster plan`: the steps, a table of nodes (partitions before → after, what each
    /// receives and sends), the totals with the estimated time, the replica check and the
    /// commit command.
    static func plan(_ plan: JSONValue) -> String {
        guard case .object(let top) = plan else { return render(plan) }
        func integer(_ value: JSONValue?) -> Int { if case .integer(let n)? = value { Int(n) } else { 0 } }
        func text(_ value: JSONValue?) -> String { if case .string(let s)? = value { s } else { "-" } }
        func moves(_ value: JSONValue?) -> String {
            guard case .object(let tally)? = value else { return "-" }
            return "\(integer(tally["partitions"])) partitions, \(integer(tally["keys"])) keys, \(bytes(integer(tally["bytes"])))"
        }
        var lines: [String] = []
        let steps: [JSONValue] = if case .array(let steps)? = top["steps"] { steps } else { [] }
        lines.append("plan from ring version \(integer(top["ring_version"])), N=\(integer(top["replicas"])): \(steps.count) step\(steps.count == 1 ? "" : "s")")
        for (index, step) in steps.enumerated() {
            guard case .object(let step) = step else { continue }
            lines.append("  \(index + 1). \(text(step["change"])) \(text(step["node"])) (\(text(step["address"]))) -> ring version \(integer(step["ring_version"])): "
                + "\(integer(step["owner_changes"])) partitions change owner; copies \(moves(step["moves"]))")
        }
        var rows = [["node", "address", "status", "partitions", "receives", "sends"]]
        if case .array(let nodes)? = top["nodes"] {
            for node in nodes {
                guard case .object(let node) = node else { continue }
                rows.append([
                    text(node["node"]), text(node["address"]), text(node["status"]),
                    "\(integer(node["partitions_before"])) -> \(integer(node["partitions_after"]))",
                    moves(node["receives"]), moves(node["sends"]),
                ])
            }
        }
        lines += table(rows)
        let rate = integer(top["send_bytes_per_second"])
        let eta: String = if case .integer(let seconds)? = top["eta_seconds"] {
            "about \(seconds) s at \(bytes(rate))/s per sender (this node's throttle × concurrent transfers)"
        } else {
            "no estimate: handoff is paused here"
        }
        lines.append("moves: \(moves(top["moves"])) of data; sent by every old replica of each: \(moves(top["sent"])); \(eta)")
        if integer(top["estimated_partitions"]) > 0 {
            lines.append("sizes of \(integer(top["estimated_partitions"])) partitions not held here are estimated (the mean of those held)")
        }
        let replicas = integer(top["replicas"])
        if case .bool(true)? = top["replicas_distinct"] {
            lines.append("every partition keeps \(replicas) distinct replicas (\(integer(top["repeated_windows"])) windows of \(replicas) partitions repeat an owner)")
        } else {
            lines.append("WARNING: fewer members than N=\(replicas) after this plan: some partitions will have fewer than \(replicas) distinct replicas")
        }
        lines.append("to carry it out: cairn cluster commit \(text(top["plan"]))")
        return lines.joined(separator: "\n")
    }

    /// `1.5 MiB`, `12 KiB`, `300 B`.
    static func bytes(_ count: Int) -> String {
        if count >= 1 << 30 { return String(format: "%.1f GiB", Double(count) / Double(1 << 30)) }
        if count >= 1 << 20 { return String(format: "%.1f MiB", Double(count) / Double(1 << 20)) }
        if count >= 1 << 10 { return String(format: "%.1f KiB", Double(count) / Double(1 << 10)) }
        return "\(count) B"
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
