import CairnHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// INFO: Cairn's own particulars in Redis's `# Section` / `field:value` text (docs/resp.md,
/// "INFO").
extension RESPExecutor {
    /// The sections in the order INFO lists them; `INFO` alone, `default`, `all` and
    /// `everything` give all of them.
    static let infoSections = ["server", "clients", "stats", "replication", "cluster"]

    func info(_ asked: [String], session: RESPSession) async throws -> RESPValue {
        let wanted: [String] =
            asked.isEmpty || asked.contains(where: { ["default", "all", "everything"].contains($0) })
            ? Self.infoSections : Self.infoSections.filter(asked.contains)
        let status: JSONValue = wanted.contains("replication") || wanted.contains("cluster") ? try await service.clusterStatus() : .null
        var text = ""
        for section in wanted {
            let fields = self.fields(of: section, status: status)
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for (name, value) in fields { text += "\(name):\(value)\r\n" }
        }
        return .bulk(text)
    }

    private func fields(of section: String, status: JSONValue) -> [(String, String)] {
        switch section {
        case "server":
            let uptime = ContinuousClock.now - server.started
            let port = address.split(separator: ":").last.map(String.init) ?? ""
            return [
                ("redis_version", Self.compatibleRedisVersion),
                ("cairn_server", "cairnd"),
                ("redis_mode", "standalone"),
                ("process_id", String(getpid())),
                ("tcp_port", port),
                ("resp_address", address),
                ("uptime_in_seconds", String(uptime.components.seconds)),
                ("uptime_in_days", String(uptime.components.seconds / 86_400)),
            ]
        case "clients":
            return [("connected_clients", String(server.connections)), ("maxclients", String(server.maxConnections))]
        case "stats":
            return [
                ("total_connections_received", String(server.connectionsAccepted)),
                ("total_commands_processed", String(server.commandsProcessed)),
                ("scan_cursors", String(server.cursors.count)),
            ]
        case "replication":
            // Every Cairn node takes writes for every key; replication is Cairn's, per key.
            let ring = status["ring"]
            return [
                ("role", "master"),
                ("connected_slaves", "0"),
                ("cairn_replicas_per_key", Self.text(ring?["n"])),
                ("cairn_read_quorum", Self.text(ring?["r"])),
                ("cairn_write_quorum", Self.text(ring?["w"])),
                ("cairn_hints_held", Self.text(status["hints_held"])),
            ]
        case "cluster":
            // Not Redis Cluster: clients must not ask for slots. Any node serves any key.
            var fields: [(String, String)] = [("cluster_enabled", "0")]
            let members: [JSONValue] = if case .array(let list) = status["members"] { list } else { [] }
            let count = { (name: String, value: JSONValue) in members.count { $0[name] == value } }
            fields += [
                ("cairn_cluster", Self.text(status["cluster"])),
                ("cairn_node", Self.text(status["node"])),
                ("cairn_listen", Self.text(status["listen"])),
                ("cairn_http", Self.text(status["http"])),
                ("cairn_members", String(members.count)),
                ("cairn_members_valid", String(count("status", "valid"))),
                ("cairn_members_reachable", String(count("reachable", true))),
                ("cairn_ring_version", Self.text(status["ring"]?["version"])),
                ("cairn_partitions", Self.text(status["ring"]?["partitions"])),
                ("cairn_partitions_replicated_here", Self.text(status["ring"]?["replicated_here"])),
                ("cairn_pending_partitions", String(Self.list(status["pending_partitions"]).count)),
                ("cairn_transfers", String(Self.list(status["transfers"]).count)),
                ("cairn_transfers_done", Self.text(status["transfers_done"])),
                ("cairn_requests_in_flight", Self.text(status["requests_in_flight"])),
            ]
            for (index, warning) in Self.list(status["warnings"]).enumerated() {
                fields.append(("cairn_warning_\(index)", Self.text(warning)))
            }
            return fields
        default:
            return []
        }
    }

    private static func list(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let list) = value { return list }
        return []
    }

    /// A JSON scalar as INFO text (`""` for anything else); CR and LF become spaces so a field
    /// stays on its line.
    private static func text(_ value: JSONValue?) -> String {
        let text: String =
            switch value {
            case .string(let string): string
            case .integer(let integer): String(integer)
            case .number(let number): String(number)
            case .bool(let bool): bool ? "1" : "0"
            default: ""
            }
        return String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }
}
