import CairnCore
import NIOHTTP1

/// The bodies of the cluster admin endpoints (`/v1/cluster/leave`, `remove`, `transfers`,
/// `antientropy`, `plan`, `commit`): JSON only, node names bounded (docs/api.md).
extension RequestParser {
    /// The node of `POST /v1/cluster/leave`: `nil` (the serving node) for an empty body, `{}`
    /// or `{"node": null}`, else `{"node": "<id or host:port>"}`.
    func leaveBody() throws(APIError) -> String? {
        guard !body.isEmpty else { return nil }
        return try nodeMember(required: false)
    }

    /// The node of `POST /v1/cluster/remove`: `{"node": "<id or host:port>"}`, required.
    func removeBody() throws(APIError) -> String {
        guard !body.isEmpty else {
            throw APIError(
                .invalidBody, "the body must be {\"node\": \"<node id or host:port>\"}", detail: ["member": "node"])
        }
        guard let node = try nodeMember(required: true) else {
            preconditionFailure("nodeMember(required: true) returned nil")
        }
        return node
    }

    /// The order of `POST /v1/cluster/transfers`: `{"action": "pause"}`, `{"action": "resume"}`,
    /// `{"action": "throttle", "bytes_per_second": N}` or `{"action": "cancel", "partition": P}`
    /// with `"to": "<node id or host:port>"` to cancel only the transfer to one node.
    func transfersBody() throws(APIError) -> TransferSteering {
        try expectAdminJSON()
        let usage = "the body must be {\"action\": \"pause\" | \"resume\" | \"throttle\" | \"cancel\"}"
        guard !body.isEmpty else { throw APIError(.invalidBody, usage, detail: ["member": "action"]) }
        let object = try jsonObject(allowed: ["action", "bytes_per_second", "partition", "to"])
        guard case .string(let action)? = object["action"] else { throw APIError(.invalidBody, usage, detail: ["member": "action"]) }
        func only(_ members: Set<String>) throws(APIError) {
            if let extra = object.keys.sorted().first(where: { $0 != "action" && !members.contains($0) }) {
                throw APIError(.invalidBody, "\"\(extra)\" does not go with \"action\": \"\(action)\"", detail: ["member": .string(extra)])
            }
        }
        func integer(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int {
            guard case .integer(let value)? = object[name], range.contains(value) else {
                throw APIError(.invalidBody, "\"\(name)\" must be an integer in \(range.lowerBound)...\(range.upperBound)",
                               detail: ["member": .string(name)])
            }
            return Int(value)
        }
        switch action {
        case "pause":
            try only([])
            return .pause
        case "resume":
            try only([])
            return .resume
        case "throttle":
            try only(["bytes_per_second"])
            return .throttle(bytesPerSecond: try integer("bytes_per_second", in: 4_096...(1 << 40)))
        case "cancel":
            try only(["partition", "to"])
            let partition = try integer("partition", in: 0...65_535)
            switch object["to"] {
            case nil, .null?: return .cancel(partition: partition, target: nil)
            case .string(let name)? where Self.isNodeName(name):
                return .cancel(partition: partition, target: name)
            default:
                throw APIError(.invalidBody, "\"to\" must be a node id or host:port", detail: ["member": "to"])
            }
        default:
            throw APIError(.invalidBody, usage, detail: ["member": "action"])
        }
    }

    /// The order of `POST /v1/cluster/antientropy`: `{"action": "exchange" | "rebuild_tree",
    /// "partition": P}`.
    func antiEntropyBody() throws(APIError) -> AntiEntropyOrder {
        try expectAdminJSON()
        let usage = """
            the body must be {"action": "exchange" | "rebuild_tree", "partition": P}, {"action": "pause" | "resume"} \
            or {"action": "interval", "interval_ms": MS}
            """
        guard !body.isEmpty else { throw APIError(.invalidBody, usage, detail: ["member": "action"]) }
        let object = try jsonObject(allowed: ["action", "partition", "interval_ms"])
        switch object["action"] {
        case .string("pause")?, .string("resume")?, .string("interval")?:
            if object["partition"] != nil { throw APIError(.invalidBody, "\"partition\" goes with exchange and rebuild_tree", detail: ["member": "partition"]) }
            if object["action"] == .string("interval") {
                guard case .integer(let milliseconds)? = object["interval_ms"], (0...86_400_000).contains(milliseconds) else {
                    throw APIError(.invalidBody, "\"interval_ms\" must be an integer in 0...86400000", detail: ["member": "interval_ms"])
                }
                return .interval(milliseconds: UInt64(milliseconds))
            }
            if object["interval_ms"] != nil { throw APIError(.invalidBody, "\"interval_ms\" goes with interval", detail: ["member": "interval_ms"]) }
            return object["action"] == .string("pause") ? .pause : .resume
        default:
            break
        }
        if object["interval_ms"] != nil { throw APIError(.invalidBody, "\"interval_ms\" goes with interval", detail: ["member": "interval_ms"]) }
        guard case .integer(let partition)? = object["partition"], (0...65_535).contains(partition) else {
            throw APIError(.invalidBody, "\"partition\" must be an integer in 0...65535", detail: ["member": "partition"])
        }
        switch object["action"] {
        case .string("exchange")?: return .exchange(partition: Int(partition))
        case .string("rebuild_tree")?: return .rebuildTree(partition: Int(partition))
        default: throw APIError(.invalidBody, usage, detail: ["member": "action"])
        }
    }

    /// The changes of `POST /v1/cluster/plan`: `{"leave": [NODE...], "remove": [NODE...]}`, each
    /// optional (an empty body plans the staged joins alone).
    func planBody() throws(APIError) -> (leave: [String], remove: [String]) {
        guard !body.isEmpty else { return ([], []) }
        try expectAdminJSON()
        let object = try jsonObject(allowed: ["leave", "remove"])
        func nodes(_ member: String) throws(APIError) -> [String] {
            switch object[member] {
            case nil: return []
            case .array(let items)? where items.count <= 256:
                var names: [String] = []
                for item in items {
                    guard case .string(let name) = item, Self.isNodeName(name) else {
                        throw APIError(.invalidBody, "\"\(member)\" lists node ids or host:port strings", detail: ["member": .string(member)])
                    }
                    names.append(name)
                }
                return names
            default:
                throw APIError(
                    .invalidBody, "\"\(member)\" must be an array of at most 256 node ids or host:port strings",
                    detail: ["member": .string(member), "limit": .integer(256)])
            }
        }
        return (try nodes("leave"), try nodes("remove"))
    }

    /// The token of `POST /v1/cluster/commit`: `{"plan": "<token from the plan>"}`.
    func commitBody() throws(APIError) -> String {
        try expectAdminJSON()
        let usage = "the body must be {\"plan\": \"<the token a plan answered>\"}"
        guard !body.isEmpty else { throw APIError(.invalidBody, usage, detail: ["member": "plan"]) }
        let object = try jsonObject(allowed: ["plan"])
        guard case .string(let token)? = object["plan"] else { throw APIError(.invalidBody, usage, detail: ["member": "plan"]) }
        do {
            try ClusterPlan.checkToken(token)
        } catch {
            throw APIError(.invalidBody, "\"plan\": \(error)", detail: ["member": "plan"])
        }
        return token
    }

    /// A cluster admin body must be JSON.
    private func expectAdminJSON() throws(APIError) {
        guard try Self.mediaType(headers) == .json else {
            throw APIError(.unsupportedMediaType, "a cluster admin body is JSON", detail: ["supported": ["application/json"]])
        }
    }

    /// A node id or `host:port` as an admin body may name one: 1 to `maxNodeNameBytes`
    /// printable ASCII characters, no spaces.
    static func isNodeName(_ name: String) -> Bool {
        (1...maxNodeNameBytes).contains(name.utf8.count) && name.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
    }

    private func nodeMember(required: Bool) throws(APIError) -> String? {
        try expectAdminJSON()
        let object = try jsonObject(allowed: ["node"])
        switch object["node"] {
        case nil, .null?:
            guard !required else {
                throw APIError(.invalidBody, "the body needs \"node\": a node id or host:port", detail: ["member": "node"])
            }
            return nil
        case .string(let name)?:
            guard Self.isNodeName(name) else {
                throw APIError(
                    .invalidBody,
                    "\"node\" must be a node id or host:port: 1 to \(Self.maxNodeNameBytes) printable ASCII characters, no spaces",
                    detail: ["member": "node", "limit": .integer(Int64(Self.maxNodeNameBytes))])
            }
            return name
        default:
            throw APIError(
                .invalidBody, "\"node\" must be a string\(required ? "" : " or null")", detail: ["member": "node"])
        }
    }
}
