import CairnHTTP

/// A node's view of the cluster (`GET /v1/cluster`): the bytes it sent, and the parts
/// docs/api.md describes picked out of them.
///
/// The node owns this document and may add members; whatever is not picked out stays in
/// `json` (and in each member's `extra`), so a renderer can still show it. Missing parts are
/// `nil` or empty rather than errors; only a body that is not a JSON object, or a part of the
/// wrong type, is malformed.
public struct ClusterStatus: Hashable, Sendable {
    /// The body exactly as the node sent it (for `--json`).
    public var raw: [UInt8]
    /// The body parsed.
    public var json: JSONValue
    /// The id of the node that answered.
    public var node: String?
    /// The members as that node sees them.
    public var members: [Member]
    /// The ring summary (`version`, `partitions`, `n`, …) as given.
    public var ring: [String: JSONValue]
    /// Handoffs in progress or pending, each as the node describes it.
    public var transfers: [JSONValue]

    /// One member: its identity, status, the answering node's opinion of its liveness, and the
    /// partitions it owns.
    public struct Member: Hashable, Sendable {
        public var node: String?
        public var address: String?
        /// `joining`, `valid`, `leaving`, `left` or `removed`.
        public var status: String?
        /// Whether the answering node can reach it (its own opinion, DESIGN.md §3).
        public var reachable: Bool?
        /// Partitions of the ring it owns.
        public var partitions: Int64?
        /// Members of the member's object not picked out above.
        public var extra: [String: JSONValue]
    }

    public init(raw: [UInt8]) throws(CairnClientError) {
        let json: JSONValue
        do {
            json = try JSONParser.parse(raw)
        } catch {
            throw .malformedResponse("the cluster status is not JSON (\(error))")
        }
        guard case .object(let top) = json else { throw .malformedResponse("the cluster status is not a JSON object") }
        self.raw = raw
        self.json = json
        self.node = try Self.optional(top["node"], "node", as: \.stringValue)
        switch top["members"] {
        case nil, .null?: members = []
        case .array(let items)?: members = try items.map(Member.init(parsing:))
        default: throw .malformedResponse("the cluster status's \"members\" is not an array")
        }
        switch top["ring"] {
        case nil, .null?: ring = [:]
        case .object(let object)?: ring = object
        default: throw .malformedResponse("the cluster status's \"ring\" is not an object")
        }
        switch top["transfers"] {
        case nil, .null?: transfers = []
        case .array(let items)?: transfers = items
        default: throw .malformedResponse("the cluster status's \"transfers\" is not an array")
        }
    }

    /// `value` read by `read`, `nil` when absent or null, malformed when of another type.
    static func optional<T>(_ value: JSONValue?, _ name: String, as read: (JSONValue) -> T?) throws(CairnClientError) -> T? {
        guard let value, value != .null else { return nil }
        guard let result = read(value) else { throw .malformedResponse("the cluster status's \"\(name)\" has the wrong type") }
        return result
    }
}

extension ClusterStatus.Member {
    static let known: Set<String> = ["node", "address", "status", "reachable", "partitions"]

    init(parsing value: JSONValue) throws(CairnClientError) {
        guard case .object(let object) = value else { throw .malformedResponse("a cluster member is not a JSON object") }
        node = try ClusterStatus.optional(object["node"], "node", as: \.stringValue)
        address = try ClusterStatus.optional(object["address"], "address", as: \.stringValue)
        status = try ClusterStatus.optional(object["status"], "status", as: \.stringValue)
        reachable = try ClusterStatus.optional(object["reachable"], "reachable", as: \.boolValue)
        partitions = try ClusterStatus.optional(object["partitions"], "partitions", as: \.integerValue)
        extra = object.filter { !Self.known.contains($0.key) }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
