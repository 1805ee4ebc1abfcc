import CairnHTTP
import NIOHTTP1

/// One request as it goes on the wire: built by the pure functions below from the client's
/// arguments, so the URL and header encoding is tested without a socket.
struct ClientRequest: Equatable, Sendable {
    var method: HTTPMethod
    /// The path and query, percent-encoded (`/v1/keys/user%2F1?w=2`).
    var target: String
    var headers: [Header]
    var body: [UInt8]

    struct Header: Hashable, Sendable {
        var name: String
        var value: String
    }

    init(_ method: HTTPMethod, _ target: String, headers: [Header] = [], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Whether sending it twice has the effect of sending it once, so a request that failed
    /// on a kept-alive connection the server had just closed may be sent again.
    var isIdempotent: Bool { method == .GET }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    // MARK: Endpoints (docs/api.md)

    static func keyPath(_ key: [UInt8]) -> String {
        "/v1/keys/" + PercentEncoding.encode(key)
    }

    /// `?a=1&b=2` from the parameters that are set, in the order given; "" when none is.
    static func query(_ parameters: [(String, String?)]) -> String {
        let parts = parameters.compactMap { name, value in value.map { "\(name)=\($0)" } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// A read that asks for the raw bytes of a single value (siblings still come as JSON), so
    /// a value costs no base64 on the way back.
    static func get(key: [UInt8], r: Int?, consistency: String? = nil) -> ClientRequest {
        ClientRequest(
            .GET, keyPath(key) + query([("r", r.map(String.init)), ("consistency", consistency)]),
            headers: [Header(name: "Accept", value: "application/octet-stream")])
    }

    /// A write of the raw bytes (`application/octet-stream`), the TTL in the query.
    static func put(key: [UInt8], value: [UInt8], ttlSeconds: Int64?, context: String?, blind: Bool, w: Int?)
        throws(CairnClientError) -> ClientRequest
    {
        var headers = [Header(name: "Content-Type", value: "application/octet-stream")]
        if let context { headers.append(try contextHeader(context)) }
        let target = keyPath(key) + query([
            ("ttl", ttlSeconds.map(String.init)), ("w", w.map(String.init)), ("blind", blind ? "true" : nil),
        ])
        return ClientRequest(.PUT, target, headers: headers, body: value)
    }

    static func delete(key: [UInt8], context: String?, w: Int?) throws(CairnClientError) -> ClientRequest {
        let headers = try context.map { (context) throws(CairnClientError) in [try contextHeader(context)] } ?? []
        return ClientRequest(.DELETE, keyPath(key) + query([("w", w.map(String.init))]), headers: headers)
    }

    static func scan(prefix: [UInt8], limit: Int?, after: [UInt8]?, values: Bool = false) -> ClientRequest {
        let parameters: [(String, String?)] = [
            ("prefix", prefix.isEmpty ? nil : PercentEncoding.encode(prefix)),
            ("limit", limit.map(String.init)),
            ("after", after.map(PercentEncoding.encode)),
            ("values", values ? "true" : nil),
        ]
        return ClientRequest(.GET, "/v1/keys" + query(parameters))
    }

    /// A CAS body names both sides explicitly: text when the bytes are UTF-8, base64
    /// otherwise, `null` for absent.
    /// `force`: no expected value, `"force": true` (set whatever the key holds).
    static func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?, force: Bool = false) -> ClientRequest {
        var members: [String: JSONValue] = [:]
        func add(_ value: [UInt8]?, text: String, base64: String) {
            guard let value else {
                members[text] = .null
                return
            }
            if let string = String(validating: value, as: UTF8.self) {
                members[text] = .string(string)
            } else {
                members[base64] = .string(Base64.encode(value, .standard))
            }
        }
        if force {
            members["force"] = .bool(true)
        } else {
            add(expected, text: "expected", base64: "expected_base64")
        }
        add(new, text: "value", base64: "value_base64")
        return json(.POST, keyPath(key) + "/cas", .object(members))
    }

    static let clusterStatus = ClientRequest(.GET, "/v1/cluster")
    static let health = ClientRequest(.GET, "/health")

    static func leave(node: String?) -> ClientRequest {
        guard let node else { return ClientRequest(.POST, "/v1/cluster/leave") }
        return json(.POST, "/v1/cluster/leave", ["node": .string(node)])
    }

    static func remove(node: String) -> ClientRequest {
        json(.POST, "/v1/cluster/remove", ["node": .string(node)])
    }

    static func transfers(_ body: [String: JSONValue]) -> ClientRequest {
        json(.POST, "/v1/cluster/transfers", .object(body))
    }

    static func antiEntropy(action: String, partition: Int) -> ClientRequest {
        json(.POST, "/v1/cluster/antientropy", ["action": .string(action), "partition": .integer(Int64(partition))])
    }

    static func antiEntropySteering(_ body: [String: JSONValue]) -> ClientRequest {
        json(.POST, "/v1/cluster/antientropy", .object(body))
    }

    static func plan(leave: [String], remove: [String]) -> ClientRequest {
        json(.POST, "/v1/cluster/plan", ["leave": .array(leave.map { .string($0) }), "remove": .array(remove.map { .string($0) })])
    }

    static func commit(plan token: String) -> ClientRequest {
        json(.POST, "/v1/cluster/commit", ["plan": .string(token)])
    }

    private static func json(_ method: HTTPMethod, _ target: String, _ body: JSONValue) -> ClientRequest {
        ClientRequest(method, target, headers: [Header(name: "Content-Type", value: "application/json")], body: body.rendered())
    }

    /// The context header, refused before sending when the token has characters no token has
    /// (unpadded base64url), since a CR or LF would otherwise break the request itself.
    static func contextHeader(_ context: String) throws(CairnClientError) -> Header {
        let isBase64URL = context.utf8.allSatisfy { byte in
            PercentEncoding.isUnreserved(byte) && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "~")
        }
        guard !context.isEmpty, isBase64URL else {
            throw .invalidArgument("the context must be the token a read returned (unpadded base64url)")
        }
        return Header(name: APIRequest.contextHeader, value: context)
    }
}
