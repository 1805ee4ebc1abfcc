import CairnCore
import NIOHTTP1

extension APIRequest {
    /// The name of the header that carries the causal context.
    public static let contextHeader = "X-Cairn-Context"

    /// Parses and checks one request; every way it can be malformed is an `APIError` (4xx).
    ///
    /// Pure: the same inputs give the same request or error. The checks run in the order a
    /// client would fix them: path, method, query, headers, body. `replicationFactor` is N, the
    /// upper bound of `r` and `w`.
    public static func parse(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], limits: APILimits,
        replicationFactor: Int
    ) throws(APIError) -> APIRequest {
        let target = Array(uri.utf8)
        guard target.first == UInt8(ascii: "/") else {
            throw APIError(.invalidURI, "the request target must be a path starting with '/'")
        }
        let questionMark = target.firstIndex(of: UInt8(ascii: "?"))
        let path = target[..<(questionMark ?? target.endIndex)]
        let query = questionMark.map { target[($0 + 1)...] } ?? []

        let route = try Self.route(path: path, method: method)
        let parameters = try QueryParameters(query, allowed: route.parameters(for: method), endpoint: route.pattern)
        let parser = RequestParser(headers: headers, body: body, limits: limits, parameters: parameters)

        switch (route, method) {
        case (.health, _):
            try parser.expectNoBody()
            return .health
        case (.metrics, _):
            try parser.expectNoBody()
            return .metrics
        case (.statusPage, _):
            try parser.expectNoBody()
            return .statusPage
        case (.cluster, _):
            try parser.expectNoBody()
            return .clusterStatus
        case (.clusterPartitions, _):
            try parser.expectNoBody()
            return .clusterPartitions
        case (.clusterLeave, _):
            return .leave(node: try parser.leaveBody())
        case (.clusterRemove, _):
            return .remove(node: try parser.removeBody())
        case (.clusterTransfers, _):
            return .steerTransfers(try parser.transfersBody())
        case (.clusterAntiEntropy, _):
            return .antiEntropy(try parser.antiEntropyBody())
        case (.clusterPlan, _):
            let (leave, remove) = try parser.planBody()
            return .plan(leave: leave, remove: remove)
        case (.clusterCommit, _):
            return .commit(token: try parser.commitBody())
        case (.keys, _):
            try parser.expectNoBody()
            return try parser.scan()
        case (.key(let segment), .GET):
            let key = try parser.key(segment)
            try parser.expectNoBody()
            switch try parser.consistency() {
            case .serial?: return .serialGet(key: key, format: parser.valueFormat())
            case .replica?: return .replicaGet(key: key, format: parser.valueFormat())
            case nil: break
            }
            return .get(
                key: key, r: try parser.quorum("r", replicationFactor: replicationFactor), format: parser.valueFormat())
        case (.key(let segment), .PUT):
            let key = try parser.key(segment)
            let w = try parser.quorum("w", replicationFactor: replicationFactor)
            let supersedes = try parser.supersedes(method: .PUT)
            let (value, ttlSeconds) = try parser.putBody()
            return .put(key: key, value: value, ttlSeconds: ttlSeconds, supersedes: supersedes, w: w)
        case (.key(let segment), _):
            let key = try parser.key(segment)
            let w = try parser.quorum("w", replicationFactor: replicationFactor)
            let supersedes = try parser.supersedes(method: .DELETE)
            try parser.expectNoBody()
            return .delete(key: key, supersedes: supersedes, w: w)
        case (.cas(let segment), _):
            let key = try parser.key(segment)
            return try parser.casRequest(key: key)
        }
    }

    /// The endpoint of `path` if it answers `method`; a 404 or 405 otherwise.
    static func route(path: ArraySlice<UInt8>, method: HTTPMethod) throws(APIError) -> APIRoute {
        guard let route = APIRoute(path: path) else {
            throw APIError(.notFound, "no endpoint at this path; see docs/api.md")
        }
        guard route.allowedMethods.contains(method) else {
            let allow = route.allowedMethods.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                .methodNotAllowed, "\(route.pattern) accepts \(allow)",
                detail: ["allowed": .array(route.allowedMethods.map { .string($0.rawValue) })],
                headers: [(name: "Allow", value: allow)])
        }
        return route
    }

    /// What can be checked of a request from its head alone, before its body is asked for
    /// (`Expect: 100-continue`): its target names an endpoint that answers its method.
    static func checkHead(_ head: HTTPRequestHead) throws(APIError) {
        let target = Array(head.uri.utf8)
        guard target.first == UInt8(ascii: "/") else {
            throw APIError(.invalidURI, "the request target must be a path starting with '/'")
        }
        _ = try route(path: path(of: target), method: head.method)
    }

    /// The path of a request target: what precedes its `?`.
    static func path(of target: [UInt8]) -> ArraySlice<UInt8> {
        target[..<(target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex)]
    }

    /// `parse` for a request head from NIOHTTP1.
    public static func parse(
        head: HTTPRequestHead, body: [UInt8], limits: APILimits, replicationFactor: Int
    ) throws(APIError) -> APIRequest {
        try parse(
            method: head.method, uri: head.uri, headers: head.headers, body: body, limits: limits,
            replicationFactor: replicationFactor)
    }

    /// The most body bytes worth reading for a request with this head, known before any body
    /// arrives: a raw value on PUT, JSON on PUT and POST, nothing otherwise (a body there is
    /// refused, the limit only bounds how much of it is read).
    public static func bodyLimit(for head: HTTPRequestHead, limits: APILimits) -> BodyLimit {
        switch head.method {
        case .PUT where (try? RequestParser.mediaType(head.headers)) == .some(.octetStream):
            return BodyLimit(bytes: limits.maxValueBytes, isRawValue: true)
        case .PUT, .POST:
            return BodyLimit(bytes: limits.maxJSONBodyBytes, isRawValue: false)
        default:
            return BodyLimit(bytes: limits.maxIgnoredBodyBytes, isRawValue: false)
        }
    }

    /// How many body bytes a request may have, and whether the body is the value itself (then
    /// exceeding it is `value_too_large` rather than `body_too_large`).
    public struct BodyLimit: Hashable, Sendable {
        public var bytes: Int
        public var isRawValue: Bool
    }
}

/// The query of a request: each parameter at most once, each one the endpoint takes.
struct QueryParameters {
    private var values: [String: [UInt8]] = [:]

    init(_ query: ArraySlice<UInt8>, allowed: Set<String>, endpoint: String) throws(APIError) {
        for part in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else {
                throw APIError(.invalidParameter, "query parameter without '=': give it as name=value")
            }
            let name = String(decoding: part[..<equals], as: UTF8.self)
            guard allowed.contains(name) else {
                let takes = allowed.isEmpty ? "no parameters" : allowed.sorted().joined(separator: ", ")
                throw APIError(
                    .unknownParameter, "unknown query parameter '\(Self.printable(name))'; \(endpoint) takes \(takes)",
                    detail: ["parameter": .string(Self.printable(name))])
            }
            guard values[name] == nil else {
                throw APIError(.duplicateParameter, "query parameter '\(name)' given twice", detail: ["parameter": .string(name)])
            }
            do {
                values[name] = try PercentEncoding.decode(part[(equals + 1)...], as: .queryValue)
            } catch {
                throw APIError(
                    .invalidURI, "query parameter '\(name)' is not validly percent-encoded (\(error))",
                    detail: ["parameter": .string(name)])
            }
        }
    }

    subscript(name: String) -> [UInt8]? { values[name] }

    /// A name as it may be echoed: printable ASCII, at most 64 characters.
    private static func printable(_ name: String) -> String {
        let safe = name.unicodeScalars.map { (0x21...0x7E).contains($0.value) ? Character($0) : "?" }
        return String(safe.prefix(64))
    }
}
